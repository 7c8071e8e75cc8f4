/**
 * Load generators for tests and benchmarks: a closed loop (callers await one operation after
 * another) and a steady open-loop HTTP load (requests at a fixed rate, answered or not), with
 * the quantile and number formatting their reports use.
 *
 * @example
 * ```ts
 * import { closedLoop, fmt } from '@sluice/test-support/load';
 *
 * const result = await closedLoop(() => limiter.checkAndUse(project), { concurrency: 16, durationMs: 1000 });
 * console.log(`${fmt(result.perSecond)} ops/s`);
 * ```
 */
export { closedLoop, type LoadResult } from './closed-loop.js';
export { fmt } from './format-number.js';
export { percentile } from './percentile.js';
export { latencyQuantile, type Sample, type SteadyLoad, steadyLoad } from './steady-load.js';
