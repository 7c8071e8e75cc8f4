/**
 * Child processes for tests and benchmarks: fixtures (TypeScript programs in this package's
 * `fixtures` folder) run to completion, held open and signalled, or listening as an app, and
 * the built example store endpoint.
 *
 * @example
 * ```ts
 * import { fixture, runChild } from '@sluice/test-support/processes';
 *
 * const { stdout } = await runChild(fixture('quota-burst.ts'), [redisUrl, prefix, '50', '10']);
 * ```
 */
export { type AppProcess, startApp, startEndpoint } from './app-process.js';
export { builtExample } from './built-example.js';
export { type ChildRun, CORE_FROM_SOURCES, fixture, runChild } from './child.js';
export { type Fixture, startFixture } from './fixture-process.js';
export { until } from './until.js';
