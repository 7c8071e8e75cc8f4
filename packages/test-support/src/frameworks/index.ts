/**
 * The adapter contract's harness: one app (`AppSpec`) built on Express 4 and 5, Koa 2 and 3 and
 * Fastify 5 and driven in process, the projects and stores its limiter uses, its event
 * recorder, and the fuzzed and mixed traffic the fuzz suite and the soak benchmark send.
 *
 * @example
 * ```ts
 * import { FRAMEWORKS, PROJECTS, frozenStore, resolveProject, sentryAuth } from '@sluice/test-support/frameworks';
 *
 * for (const framework of FRAMEWORKS) {
 *   const app = await framework.build({ options: { store: frozenStore(), resolveProject, getQuotas } });
 *   const res = await app.request({ method: 'POST', path: '/api/1/store/', headers: sentryAuth(PROJECTS.one.key) });
 *   await app.close();
 * }
 * ```
 */
export { type RecordedEvent, recordEvents } from './events.js';
export { FRAMEWORKS } from './frameworks.js';
export {
  checkFuzzedRequest,
  checkValueRequest,
  fuzzedRequest,
  fuzzOptions,
  valueOptions,
  valueRequest,
} from './fuzz-cases.js';
export { type MixedRunResult, mixedRun } from './mixed-run.js';
export {
  countingStore,
  frozenStore,
  hourly,
  NOW_MS,
  PROJECTS,
  resolveProject,
  secondsToNextWindow,
  sentryAuth,
} from './projects.js';
export {
  APP_EXPOSED_HEADER,
  type AppSpec,
  type Framework,
  type HandlerReply,
  type TestApp,
  type TestRequest,
  type TestResponse,
} from './types.js';
