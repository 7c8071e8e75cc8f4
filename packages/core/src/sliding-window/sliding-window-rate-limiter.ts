import { InvalidConfiguration } from '../errors.js';
import { type DecisionScope, ENGINE_SCOPE } from '../metrics/decision-channel.js';
import { onlyAStore, type Store, storeOption } from '../store/store.js';
import { planCalls, windowKey } from './call-plan.js';
import type { Quota } from './quota.js';
import {
  type GrantedQuota,
  type RequestedQuota,
  timestampMs,
  validateGrants,
  validateRequests,
} from './requests.js';
import { decide, record } from './slot-decision.js';
import { resetWindowOperation } from './window-reset.js';

/**
 * Sliding-window rate limits in the model of sentry-redis-tools: each request names several
 * windows (for example 100 per 30 s and 10 per 3 s), is granted as much of what it asked as
 * fits in all of them, and learns which windows cut it and when to retry. Denial is a value:
 * a grant of 0, never an exception.
 *
 * `checkAndUseQuotas` checks and counts in one atomic store step, so no concurrency can
 * over-spend a window. `checkWithinQuotas` then `useQuotas` count only after the protected
 * work succeeded, at the price of possible over-spend between the two steps.
 *
 * @example
 * ```ts
 * const limiter = new SlidingWindowRateLimiter(new MemoryStore());
 * const quotas = [
 *   new Quota({ windowSeconds: 30, granularitySeconds: 10, limit: 100 }),
 *   new Quota({ windowSeconds: 3, granularitySeconds: 1, limit: 10 }),
 * ];
 * const [grant] = await limiter.checkAndUseQuotas([{ prefix: 'org:123', requested: 1, quotas }]);
 * if (grant.granted === 0) console.log(`limited, retry in ${grant.retryAfter} s`);
 * ```
 *
 * `checkAndUseQuotas` and `checkWithinQuotas` publish one message per request on
 * `sluice:decision` when that channel has a subscriber (see `docs/metrics.md`).
 */
export class SlidingWindowRateLimiter {
  /** Where the windows live. */
  readonly store: Store;

  constructor(store: Store, ...unexpected: never[]) {
    this.store = storeOption('store', store);
    onlyAStore('SlidingWindowRateLimiter', unexpected);
  }

  /**
   * How much of each request fits in its quotas at `timestamp`, without counting anything.
   * Requests are decided in order, and each one's grant counts against the windows the later
   * ones share with it. Resolves to the timestamp used (seconds; the store's time when none
   * was given), to pass to {@link SlidingWindowRateLimiter.useQuotas}, and one grant per request.
   *
   * @example
   * ```ts
   * const [timestamp, grants] = await limiter.checkWithinQuotas(requests);
   * const done = await work(grants[0].granted);
   * await limiter.useQuotas(requests, [{ ...grants[0], granted: done }], timestamp);
   * ```
   */
  async checkWithinQuotas(
    requests: RequestedQuota[],
    timestamp?: number,
  ): Promise<[timestamp: number, grants: GrantedQuota[]]> {
    const valid = validateRequests(requests);
    const ms = timestampMs(timestamp);
    const { nowUs, grants } = await decide(this.store, valid, ms, false, ENGINE_SCOPE);
    return [timestamp ?? nowUs / 1e6, grants];
  }

  /**
   * Counts what `grants` granted against the quotas of `requests` (as returned by
   * {@link SlidingWindowRateLimiter.checkWithinQuotas}, the granted units possibly lowered to
   * what was really used), at the granule of `timestamp` (seconds).
   *
   * @example
   * ```ts
   * await limiter.useQuotas(requests, grants, timestamp);
   * ```
   */
  async useQuotas(
    requests: RequestedQuota[],
    grants: GrantedQuota[],
    timestamp: number,
  ): Promise<void> {
    const valid = validateRequests(requests);
    const units = validateGrants(valid, grants);
    const ms = timestampMs(timestamp);
    if (ms === undefined) {
      throw new InvalidConfiguration(
        'timestamp',
        timestamp,
        'the timestamp checkWithinQuotas returned',
      );
    }
    const plans = planCalls(this.store.prefix, valid, this.store.clustered);
    await Promise.all(plans.map((plan) => record(this.store, plan, units, ms)));
  }

  /**
   * Checks and counts in one atomic step: each request is granted as much as fits in all its
   * quotas and that much is counted at once, so concurrent callers can never over-spend a
   * window. On a Redis Cluster, a call whose windows span several hash slots reserves slot by
   * slot and gives back what a later slot refused: it never over-grants either (see
   * `docs/sliding-window.md`).
   *
   * @example
   * ```ts
   * const [grant] = await limiter.checkAndUseQuotas([{ prefix: 'org:1', requested: 5, quotas }]);
   * // grant: { prefix: 'org:1', granted: 5, reachedQuotas: [] }
   * ```
   */
  checkAndUseQuotas(requests: RequestedQuota[], timestamp?: number): Promise<GrantedQuota[]> {
    return checkAndUseQuotasIn(this, requests, ENGINE_SCOPE, timestamp);
  }

  /**
   * Clears the windows that a request with this `prefix` and these `quotas` counts against,
   * and resolves to how many held anything. A quota with `prefixOverride` names a window shared
   * by every prefix that names it: that window is cleared for all of them.
   *
   * @example
   * ```ts
   * await limiter.reset('org:123', quotas); // org:123 starts again with empty windows
   * ```
   */
  async reset(prefix: string, quotas: Quota[]): Promise<number> {
    const [valid] = validateRequests([{ prefix, requested: 0, quotas }]);
    const keys = new Set(
      valid!.quotas.map((q) => windowKey(this.store.prefix, q.prefixOverride ?? prefix, q)),
    );
    const cleared = await Promise.all(
      [...keys].map((key) => this.store.run(resetWindowOperation, { key })),
    );
    return cleared.filter(Boolean).length;
  }
}

/**
 * `limiter.checkAndUseQuotas(requests, timestamp)` with its `sluice:decision` messages in
 * `scope`: how the HTTP layer says that a stage decides in shadow, and for which project and
 * category. Internal: not exported from the package.
 *
 * @example
 * ```ts
 * const [grant] = await checkAndUseQuotasIn(limiter, requests, { shadow: false, local: false, category: 'error' });
 * ```
 */
export async function checkAndUseQuotasIn(
  limiter: SlidingWindowRateLimiter,
  requests: RequestedQuota[],
  scope: DecisionScope,
  timestamp?: number,
): Promise<GrantedQuota[]> {
  const valid = validateRequests(requests);
  return (await decide(limiter.store, valid, timestampMs(timestamp), true, scope)).grants;
}
