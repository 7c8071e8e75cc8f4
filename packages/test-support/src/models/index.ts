/**
 * The model-based runner of the time-model suites: small, obviously right models of the three
 * engines, and the clocks and timelines that step a store and its model through the same
 * instants (manual time on memory, real time kept away from boundaries on Redis).
 *
 * @example
 * ```ts
 * import { expectModel, FixedWindowModel, ManualClock, memoryStoreOn } from '@sluice/test-support/models';
 *
 * const clock = new ManualClock(1_767_225_600_000);
 * const quotas = new Quotas({ store: memoryStoreOn(clock), getQuotas });
 * const model = new FixedWindowModel(configs);
 * const actual = await quotas.isRateLimited(project, { quantity: 1 });
 * expectModel(actual, model.decide(project, 1, clock.now()), 'step 0');
 * ```
 */
export {
  type Boundaries,
  firstSpanIn,
  ManualClock,
  manualTimeline,
  memoryStoreOn,
  periodicBoundaries,
  realTimeline,
  runAllSettled,
  type Timed,
  type Timeline,
} from './test-clock.js';
export {
  expectModel,
  FixedWindowModel,
  LeaseModel,
  type ModelGrant,
  type ModelLease,
  type ModelLeaseState,
  type ModelProject,
  type ModelQuotaConfig,
  type ModelRateLimit,
  type ModelRequest,
  SlidingWindowModel,
} from './timed-model.js';
