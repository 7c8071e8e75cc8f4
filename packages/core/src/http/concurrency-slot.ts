import {
  CONCURRENCY_REASON,
  publishConcurrencyDecision,
} from '../concurrency/concurrency-decision-message.js';
import { acquireIn, ConcurrencyLimiter } from '../concurrency/concurrency-limiter.js';
import { HeldLease, type Lease } from '../concurrency/lease.js';
import { type DecisionScope, decisionChannel } from '../metrics/decision-channel.js';
import type { ExceededLimit } from '../quotas/rate-limit.js';
import type { Policies } from './ietf-headers.js';

/**
 * Reason code of a refusal by a full concurrency limit.
 *
 * @example
 * ```ts
 * CONCURRENCY_REFUSALS[0].reasonCode === CONCURRENCY_LIMIT; // true
 * ```
 */
export const CONCURRENCY_LIMIT = CONCURRENCY_REASON;

/**
 * What refuses every item of a request when the concurrency limit is full: `Retry-After` 1,
 * all categories (shared and frozen: a refusal allocates nothing).
 *
 * @example
 * ```ts
 * if ((await concurrency.limiter.acquire(slotKey)) === null) refusals.fill(CONCURRENCY_REFUSALS);
 * ```
 */
export const CONCURRENCY_REFUSALS: readonly ExceededLimit[] = Object.freeze([
  Object.freeze({ retryAfter: 1, categories: [], scope: 'project', reasonCode: CONCURRENCY_LIMIT }),
]);

/**
 * Adds the `concurrency` policy of the IETF headers for the place the stage's limit of `limit`
 * gave: `lease`, or null when the limit was full.
 *
 * @example
 * ```ts
 * const lease = await concurrency.limiter.acquire(plan.slotKey);
 * if (policies !== undefined) addConcurrencyPolicy(policies, concurrency.limit, lease);
 * ```
 */
export function addConcurrencyPolicy(policies: Policies, limit: number, lease: Lease | null): void {
  policies.add({
    name: 'concurrency',
    quota: limit,
    // Held by this process's limiter: it knows how many were in flight at the grant.
    ...(lease instanceof HeldLease
      ? { remaining: Math.max(0, limit - lease.inFlightAtGrant) }
      : lease === null
        ? { remaining: 0 }
        : {}),
    ...(lease === null ? { resetSeconds: 1 } : {}),
    refused: lease === null,
  });
}

/**
 * Takes a place of the stage's concurrency limit for `key`, the limiter publishing its decision
 * in `scope`. The local fallback's limit of 0 has no limiter that decides: its refusal is
 * published here, so that it too is one decision message.
 *
 * @example
 * ```ts
 * const lease = await acquireSlot(engines.concurrency, plan.slotKey, { shadow: false, local: false, project });
 * ```
 */
export async function acquireSlot(
  concurrency: { readonly limiter: Pick<ConcurrencyLimiter, 'acquire'>; readonly limit: number },
  key: string,
  scope: DecisionScope,
): Promise<Lease | null> {
  const { limiter } = concurrency;
  if (limiter instanceof ConcurrencyLimiter) return acquireIn(limiter, key, scope);
  const lease = await limiter.acquire(key);
  if (lease === null && decisionChannel.hasSubscribers) {
    publishConcurrencyDecision(key, concurrency.limit, undefined, scope);
  }
  return lease;
}
