import { type GlobalSpend, globalRemaining } from './global-spend.js';
import {
  describeLimit,
  type ExceededLimit,
  NotRateLimited,
  type QuotaRemaining,
  type RateLimit,
  RateLimited,
} from './rate-limit.js';
import { secondsToNextWindow } from './window.js';

/**
 * The answers of a decision with global quotas: a refusal by a global quota (given without
 * consulting the other quotas, which then cost no store call), or the other quotas' answer with
 * the global quotas' state added.
 */

/**
 * The refusal of a decision whose enforced global quotas did not all admit: every refusing
 * global quota is listed; `retryAfter` and `reasonCode` are the refusing quota's whose window
 * ends last (the first one on a tie).
 *
 * @example
 * ```ts
 * if (!spent.admitted) return globalRefusal(spent, undefined);
 * ```
 */
export function globalRefusal(
  spend: GlobalSpend,
  shadowRejectAll: ExceededLimit[] | undefined,
): RateLimit {
  const limits: ExceededLimit[] = [];
  let worst: { retryAfter: number; index: number } | undefined;
  const { claims } = spend;
  for (let i = 0; i < claims.length; i++) {
    const claim = claims[i]!;
    if (claim.admits || claim.quota.shadow === true) continue;
    const retryAfter = secondsToNextWindow(claim.nowMs / 1000, claim.quota.windowSeconds, 0);
    limits.push(describeLimit(claim.quota, retryAfter));
    if (worst === undefined || retryAfter > worst.retryAfter) worst = { retryAfter, index: i };
  }
  const quota = claims[worst!.index]!.quota;
  const measured = measure(spend, false);
  const shadowLimits = shadowsOf(spend, shadowRejectAll);
  return new RateLimited({
    retryAfter: worst!.retryAfter,
    reasonCode: quota.reasonCode!,
    reason: `Global quota ${quota.id} of ${quota.limit} per ${quota.windowSeconds}s exceeded`,
    limits,
    ...measured,
    ...(shadowLimits === undefined ? {} : { shadowLimits }),
  });
}

/**
 * `answer` (the other quotas' decision, or an admission when there were none) with the
 * global quotas' remaining units and their shadow refusals added.
 *
 * @example
 * ```ts
 * return withGlobal(decision(args, found, cache, undefined), spent);
 * ```
 */
export function withGlobal(answer: RateLimit, spend: GlobalSpend): RateLimit {
  const { quotas: globalQuotas, tightest } = measure(spend, !answer.isLimited);
  let shadowLimits = shadowsOf(spend, undefined);
  if (answer.shadowLimits !== undefined)
    shadowLimits = [...answer.shadowLimits, ...(shadowLimits ?? [])];
  if (globalQuotas === undefined && shadowLimits === answer.shadowLimits) return answer;
  const quotas = [...(globalQuotas ?? []), ...(answer.quotas ?? [])];
  let tight = answer.tightest;
  if (tightest !== undefined && (tight === undefined || tightest.remaining < tight.remaining)) {
    tight = tightest;
  }
  const init = {
    ...answer,
    ...(quotas.length === 0 ? {} : { quotas }),
    ...(tight === undefined ? {} : { tightest: tight }),
    ...(shadowLimits === undefined ? {} : { shadowLimits }),
  };
  return answer.isLimited ? new RateLimited(init) : new NotRateLimited(init);
}

/** The remaining units of every enforced global quota of the spend, and the tightest. */
function measure(
  spend: GlobalSpend,
  counted: boolean,
): { quotas?: QuotaRemaining[]; tightest?: QuotaRemaining } {
  let quotas: QuotaRemaining[] | undefined;
  let tightest: QuotaRemaining | undefined;
  for (const claim of spend.claims) {
    if (claim.quota.limit === null || claim.quota.shadow === true) continue;
    const remaining = globalRemaining(claim, spend.quantity, counted);
    quotas ??= [];
    quotas.push(remaining);
    if (tightest === undefined || remaining.remaining < tightest.remaining) tightest = remaining;
  }
  return quotas === undefined ? {} : { quotas, tightest: tightest! };
}

/** The shadow global quotas that would have refused, after `before`. */
function shadowsOf(
  spend: GlobalSpend,
  before: ExceededLimit[] | undefined,
): ExceededLimit[] | undefined {
  let shadows = before;
  for (const claim of spend.claims) {
    if (claim.admits || claim.quota.shadow !== true) continue;
    const retryAfter = secondsToNextWindow(claim.nowMs / 1000, claim.quota.windowSeconds, 0);
    shadows = [...(shadows ?? []), describeLimit(claim.quota, retryAfter)];
  }
  return shadows;
}
