/**
 * The adapter contract's harness: one app (`AppSpec`) built on Express 4 and 5, Koa 2 and 3 and
 * Fastify 5 and driven in process, and the mixed traffic the slot suite and the soak benchmark
 * send. The lighter parts have their own entries, so a suite that needs no app loads no
 * framework: `@sluice/test-support/projects` (projects and stores), `/events` (the event
 * recorder) and `/fuzz` (fuzzed requests and their checks).
 *
 * @example
 * ```ts
 * import { FRAMEWORKS } from '@sluice/test-support/frameworks';
 * import { frozenStore, hourly, PROJECTS, resolveProject, sentryAuth } from '@sluice/test-support/projects';
 *
 * for (const framework of FRAMEWORKS) {
 *   const app = await framework.build({ options: { store: frozenStore(), resolveProject, quotas: [hourly(1)] } });
 *   const res = await app.request({ path: '/api/1/store/', headers: sentryAuth(PROJECTS.one.key) });
 *   await app.close();
 * }
 * ```
 */
export { FRAMEWORKS } from './frameworks.js';
export { type MixedRunResult, mixedRun } from './mixed-run.js';
export {
  APP_EXPOSED_HEADER,
  type AppSpec,
  type Framework,
  type HandlerReply,
  type TestApp,
  type TestRequest,
  type TestResponse,
} from './types.js';
