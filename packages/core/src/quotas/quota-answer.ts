import { type DecisionScope, decisionChannel, refusal } from '../metrics/decision-channel.js';
import type { CounterKey } from './counter-keys.js';
import type { DecideArgs, QuotasDecision } from './counter-operations.js';
import type { Project, QuotaConfig } from './quota-config.js';
import { publishQuotaDecision, type QuotaBinding } from './quota-decision-message.js';
import {
  describeLimit,
  type ExceededLimit,
  NotRateLimited,
  type QuotaRemaining,
  type RateLimit,
  RateLimited,
  type RateLimitInit,
} from './rate-limit.js';
import type { RejectionCache } from './rejection-cache.js';
import { secondsToNextWindow } from './window.js';

/**
 * How a quota decision becomes its answer: a reject-all refusal, a refusal remembered in the
 * rejection cache, or the decide step's result read against each quota.
 */

/**
 * Retry-After of a reject-all (`limit: 0`) quota, as Relay answers.
 *
 * @example
 * ```ts
 * if (result.retryAfter === REJECT_ALL_RETRY_AFTER) console.log('this quota rejects everything');
 * ```
 */
export const REJECT_ALL_RETRY_AFTER = 60;

/**
 * What turning a decide step into the answer needs: the step's arguments and the call's.
 *
 * @example
 * ```ts
 * const call: QuotaCall = { ...args, project, category: 'error', scope: ENGINE_SCOPE,
 *   shadowRejectAll: undefined, shadowRejectAllQuota: undefined };
 * ```
 */
export interface QuotaCall extends DecideArgs {
  readonly project: Project;
  readonly category: string | undefined;
  readonly scope: DecisionScope;
  /** The reject-all quotas in shadow that would have refused, when any applied. */
  readonly shadowRejectAll: ExceededLimit[] | undefined;
  /** The first of them, for the decision message. */
  readonly shadowRejectAllQuota: QuotaConfig | undefined;
}

/**
 * The refusal of a request to which reject-all (`limit: 0`) quotas apply: no store step.
 *
 * @example
 * ```ts
 * rejectAllLimit([{ id: 'p', limit: 0, windowSeconds: 60, reasonCode: 'disabled' }]).retryAfter; // 60
 * ```
 */
export function rejectAllLimit(quotas: QuotaConfig[]): RateLimit {
  const first = quotas[0]!;
  return new RateLimited({
    retryAfter: REJECT_ALL_RETRY_AFTER,
    reasonCode: first.reasonCode!,
    reason: `Quota ${first.id ?? ''} rejects all requests`,
    limits: quotas.map((q) => describeLimit(q, REJECT_ALL_RETRY_AFTER)),
  });
}

/**
 * A refusal from the counters `cache` remembers full, with the quota that sets its retry, or
 * undefined when none is.
 *
 * @example
 * ```ts
 * const remembered = fromCache(cache, quotas, counters);
 * if (remembered !== undefined) return remembered.limited; // no store step
 * ```
 */
export function fromCache(
  cache: RejectionCache,
  quotas: readonly QuotaConfig[],
  counters: readonly CounterKey[],
): { limited: RateLimit; quota: QuotaConfig } | undefined {
  const limits: ExceededLimit[] = [];
  const remembered: QuotaRemaining[] = [];
  let worst: { retryAfter: number; quota: QuotaConfig } | undefined;
  for (let i = 0; i < quotas.length; i++) {
    const quota = quotas[i]!;
    // A shadow quota never refuses, even when an enforced one on its counter is remembered.
    if (quota.limit === null || quota.shadow === true) continue;
    const hit = cache.get(counters[i]!.base, quota.limit);
    if (hit === undefined) continue;
    limits.push(hit.limit);
    remembered.push(hit.remaining);
    if (worst === undefined || hit.limit.retryAfter > worst.retryAfter)
      worst = { retryAfter: hit.limit.retryAfter, quota };
  }
  if (worst === undefined) return undefined;
  const limited = new RateLimited({
    retryAfter: worst.retryAfter,
    reasonCode: worst.quota.reasonCode!,
    reason: `Quota ${worst.quota.id} of ${worst.quota.limit} per ${worst.quota.windowSeconds}s is full (remembered)`,
    limits,
    tightest: remembered[0]!,
    quotas: remembered,
  });
  return { limited, quota: worst.quota };
}

/**
 * Turns what the decide step found into the answer, remembers in `cache` the quotas that
 * were full before this request (not those refused only for its size), and publishes the
 * decision when `sluice:decision` has a subscriber.
 *
 * @example
 * ```ts
 * const found = store.runNow(decideOperation, call, timestampMs);
 * return decision(call, found, cache);
 * ```
 */
export function decision(
  call: QuotaCall,
  { nowMicros, counted, used: usedBefore }: QuotasDecision,
  cache: RejectionCache | undefined,
): RateLimit {
  const { quotas, counters, quantity } = call;
  const timestamp = nowMicros / 1e6;
  const limits: ExceededLimit[] = [];
  const measuredQuotas: QuotaRemaining[] = [];
  let shadowLimits = call.shadowRejectAll;
  let shadowQuota = call.shadowRejectAllQuota;
  let worst: { retryAfter: number; quota: QuotaConfig; remaining: number } | undefined;
  let tightest: QuotaRemaining | undefined;
  let tightestQuota: QuotaConfig | undefined;
  for (let i = 0; i < quotas.length; i++) {
    const quota = quotas[i]!;
    const { limit } = quota;
    if (limit === null) continue;
    const used = usedBefore[i]!;
    const resetAfter = secondsToNextWindow(timestamp, quota.windowSeconds, counters[i]!.shift);
    if (quota.shadow === true) {
      // Watched, not enforced: what it would have refused, and nothing else.
      if (quantity > 0 ? used + quantity > limit : used >= limit) {
        shadowLimits ??= [];
        shadowLimits.push(describeLimit(quota, resetAfter));
        shadowQuota ??= quota;
      }
      continue;
    }
    const remaining: QuotaRemaining = {
      id: quota.id,
      limit,
      remaining: Math.max(0, limit - used - (counted ? quantity : 0)),
      windowSeconds: quota.windowSeconds,
      resetAfter,
      full: used >= limit,
    };
    measuredQuotas.push(remaining);
    if (quantity > 0 ? used + quantity > limit : used >= limit) {
      const exceeded = describeLimit(quota, resetAfter);
      limits.push(exceeded);
      if (remaining.full) cache?.remember(counters[i]!.base, exceeded, remaining);
      if (worst === undefined || resetAfter > worst.retryAfter)
        worst = { retryAfter: resetAfter, quota, remaining: remaining.remaining };
    }
    if (tightest === undefined || remaining.remaining < tightest.remaining) {
      tightest = remaining;
      tightestQuota = quota;
    }
  }
  if (decisionChannel.hasSubscribers) {
    const { project, category, scope } = call;
    const bound: QuotaBinding =
      worst !== undefined
        ? {
            outcome: refusal(scope.shadow),
            quota: worst.quota,
            remaining: worst.remaining,
            fromCache: false,
          }
        : shadowQuota !== undefined
          ? {
              outcome: 'shadow_refused',
              quota: shadowQuota,
              remaining: undefined,
              fromCache: false,
            }
          : {
              outcome: 'admitted',
              quota: tightestQuota,
              remaining: tightest?.remaining,
              fromCache: false,
            };
    publishQuotaDecision(bound, project, category, scope);
  }
  const measured: RateLimitInit =
    tightest === undefined ? {} : { tightest, quotas: measuredQuotas };
  if (shadowLimits !== undefined) measured.shadowLimits = shadowLimits;
  if (worst === undefined) return new NotRateLimited(measured);
  const { quota, retryAfter } = worst;
  return new RateLimited({
    retryAfter,
    reasonCode: quota.reasonCode!,
    reason: `Quota ${quota.id} of ${quota.limit} per ${quota.windowSeconds}s (${quota.scope ?? 'organization'}) exceeded`,
    limits,
    ...measured,
  });
}
