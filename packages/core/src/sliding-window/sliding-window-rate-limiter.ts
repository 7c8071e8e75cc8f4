import { InvalidConfiguration } from '../errors.js';
import type { Store } from '../store/store.js';
import {
  decideArgs,
  decodeDecision,
  planCalls,
  type RequestAnswer,
  recordArgs,
  type StoreCallPlan,
} from './call-plan.js';
import type { Quota } from './quota.js';
import {
  type GrantedQuota,
  type RequestedQuota,
  timestampMs,
  type ValidRequest,
  validateGrants,
  validateRequests,
} from './requests.js';
import { decideOperation, recordOperation } from './window-operations.js';

/** Per request and quota: remaining units and retry ms, as the store calls answered. */
type Findings = Array<Array<{ remaining: number; retryMs: number }>>;

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
 */
export class SlidingWindowRateLimiter {
  /** Where the windows live. */
  readonly store: Store;

  constructor(store: Store) {
    if (store === null || typeof store !== 'object' || typeof store.run !== 'function') {
      throw new InvalidConfiguration('store', store, 'a MemoryStore or RedisStore');
    }
    this.store = store;
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
    const { nowUs, grants } = await this.#decide(valid, timestampMs(timestamp), false);
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
    await Promise.all(plans.map((plan) => this.#record(plan, units, ms)));
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
  async checkAndUseQuotas(requests: RequestedQuota[], timestamp?: number): Promise<GrantedQuota[]> {
    const valid = validateRequests(requests);
    return (await this.#decide(valid, timestampMs(timestamp), true)).grants;
  }

  /**
   * Runs the store calls of a decision one after the other, each asking only for what the
   * earlier ones granted, at one decision time (the first call's when none was given). With
   * `consume`, every call reserves what it grants; what a later call refused is then given back.
   */
  async #decide(
    requests: readonly ValidRequest[],
    ms: number | undefined,
    consume: boolean,
  ): Promise<{ nowUs: number; grants: GrantedQuota[] }> {
    const plans = planCalls(this.store.prefix, requests, this.store.clustered);
    const asked = requests.map((r) => r.requested);
    const findings: Findings = requests.map(() => []);
    const reserved: Array<{ plan: StoreCallPlan; answers: RequestAnswer[] }> = [];
    let timeMs = ms;
    let nowUs = 0;
    for (const plan of plans) {
      let decision: ReturnType<typeof decodeDecision>;
      try {
        const args = decideArgs(plan, consume, asked);
        const reply = await this.store.run(decideOperation, {
          keys: plan.keys,
          args,
          timestampMs: timeMs,
        });
        decision = decodeDecision(plan, reply);
      } catch (error) {
        await this.#giveBack(reserved, () => 0, timeMs);
        throw error;
      }
      if (timeMs === undefined) {
        nowUs = decision.nowUs;
        timeMs = nowUs / 1000;
      }
      for (const answer of decision.answers) {
        asked[answer.index] = answer.granted;
        for (const { position, remaining, retryMs } of answer.quotas) {
          findings[answer.index]![position] = { remaining, retryMs };
        }
      }
      if (consume) reserved.push({ plan, answers: decision.answers });
    }
    if (ms !== undefined) nowUs = ms * 1000;
    const grants = requests.map((request, i) => grantOf(request, findings[i]!));
    if (plans.length > 1) await this.#giveBack(reserved, (i) => grants[i]!.granted, timeMs);
    return { nowUs, grants };
  }

  /**
   * Gives back, in each reserved store call, what it granted beyond `kept(index)`. Best effort:
   * a failure leaves the excess counted until its granule leaves the window (under-grant,
   * never over-grant), and does not fail the decision.
   */
  async #giveBack(
    reserved: Array<{ plan: StoreCallPlan; answers: RequestAnswer[] }>,
    kept: (index: number) => number,
    ms: number | undefined,
  ): Promise<void> {
    await Promise.all(
      reserved.map(async ({ plan, answers }) => {
        const units: number[] = [];
        let any = false;
        for (const { index, granted } of answers) {
          units[index] = kept(index) - granted;
          if (units[index] !== 0) any = true;
        }
        if (!any) return;
        try {
          await this.#record(plan, units, ms);
        } catch {
          // The excess stays counted until it leaves the window: see the method's comment.
        }
      }),
    );
  }

  async #record(
    plan: StoreCallPlan,
    units: readonly number[],
    ms: number | undefined,
  ): Promise<void> {
    if (plan.requests.every(({ index }) => units[index] === 0)) return;
    await this.store.run(recordOperation, {
      keys: plan.keys,
      args: recordArgs(plan, units),
      timestampMs: ms,
    });
  }
}

/**
 * The grant of one request from what its quotas' windows answered: `granted` starts at
 * `requested` and each quota, in order, whose remaining units are fewer cuts it and is reached.
 * When cut, `retryAfter` is the time until every window of the request allows one more unit.
 */
function grantOf(
  request: ValidRequest,
  findings: Array<{ remaining: number; retryMs: number }>,
): GrantedQuota {
  let granted = request.requested;
  const reached: number[] = [];
  findings.forEach(({ remaining }, position) => {
    if (remaining < granted) {
      granted = remaining;
      reached.push(position);
    }
  });
  const grant: GrantedQuota = {
    prefix: request.prefix,
    granted,
    reachedQuotas: reached.map((position) => request.named[position] as Quota),
  };
  if (granted < request.requested) {
    // Every window of the request, not only the reached ones: a window this grant filled
    // exactly is not reached, yet it too must free a unit before one more can be granted.
    let retryMs = 0;
    for (const { retryMs: ms } of findings) {
      retryMs = ms < 0 || retryMs < 0 ? -1 : Math.max(retryMs, ms);
    }
    grant.retryAfter = retryMs < 0 ? Number.POSITIVE_INFINITY : retryMs / 1000;
  }
  return grant;
}
