import { globalRefusal, withGlobal } from './global-answer.js';
import {
  commitGlobal,
  type GlobalContext,
  type GlobalQuota,
  type GlobalSpend,
  releaseGlobal,
  spendGlobal,
} from './global-spend.js';
import type { QuotaConfig } from './quota-config.js';
import { type ExceededLimit, NotRateLimited, type RateLimit } from './rate-limit.js';

/**
 * Told the answer when the global quotas alone decided it (a refusal by one of them, or an
 * admission with no other quota), with the global quota that bound it and what it has left:
 * the refusing one, else a shadow one that would have refused, else the tightest enforced one.
 *
 * @example
 * ```ts
 * const report: GlobalReport = (answer, quota) => console.log(answer.isLimited, quota?.id);
 * ```
 */
export type GlobalReport = (
  answer: RateLimit,
  quota: QuotaConfig | undefined,
  remaining: number | undefined,
) => void;

/**
 * What {@link decideWithGlobal} decides: the global quotas of a decision and the call.
 *
 * @example
 * ```ts
 * const call: GlobalCall = { globals, quantity: 1, timestampMs: undefined, shadowRejectAll: undefined };
 * ```
 */
export interface GlobalCall {
  readonly globals: readonly GlobalQuota[];
  readonly quantity: number;
  readonly timestampMs: number | undefined;
  /** Reject-all quotas in shadow, reported with the answer. */
  readonly shadowRejectAll: ExceededLimit[] | undefined;
  /** Called when the global quotas alone decided (absent: nobody listens). */
  readonly report?: GlobalReport | undefined;
}

/**
 * A decision with global quotas: their slices are spent first (a store call only for a slice
 * that is short); if they admit, `decideOthers` decides the other quotas in their one atomic
 * step (absent: there are none); if those refuse, or fail, the global units go back to the
 * slices. A refusal by a global quota answers without consulting the others.
 *
 * @example
 * ```ts
 * const answer = await decideWithGlobal(context, { globals, quantity: 1, timestampMs: undefined,
 *   shadowRejectAll: undefined }, () => decideProjectQuotas());
 * ```
 */
export function decideWithGlobal(
  context: GlobalContext,
  call: GlobalCall,
  decideOthers: (() => RateLimit | Promise<RateLimit>) | undefined,
): Promise<RateLimit> {
  const { budget } = context;
  const { shadowRejectAll } = call;
  const afterGlobal = (spend: GlobalSpend): RateLimit | Promise<RateLimit> => {
    if (!spend.admitted) {
      const refused = globalRefusal(spend, shadowRejectAll);
      call.report?.(refused, boundOf(spend, refused)?.quota, 0);
      return refused;
    }
    if (decideOthers === undefined) {
      commitGlobal(budget, spend);
      const init = shadowRejectAll === undefined ? {} : { shadowLimits: shadowRejectAll };
      const admitted = withGlobal(new NotRateLimited(init), spend);
      if (call.report !== undefined) {
        const bound = boundOf(spend, admitted);
        call.report(admitted, bound?.quota, bound?.remaining);
      }
      return admitted;
    }
    const finish = (answer: RateLimit) => {
      if (answer.isLimited) releaseGlobal(budget, spend);
      else commitGlobal(budget, spend);
      return withGlobal(answer, spend);
    };
    let answer: RateLimit | Promise<RateLimit>;
    try {
      answer = decideOthers();
    } catch (error) {
      releaseGlobal(budget, spend);
      throw error;
    }
    if (!(answer instanceof Promise)) return finish(answer);
    return answer.then(finish, (error: unknown) => {
      releaseGlobal(budget, spend);
      throw error;
    });
  };
  try {
    const spent = spendGlobal(context, call.globals, call.quantity, call.timestampMs);
    if (spent instanceof Promise) return spent.then(afterGlobal);
    const answer = afterGlobal(spent);
    return answer instanceof Promise ? answer : Promise.resolve(answer);
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * The global quota that bound `answer`: the refusing one whose window ends last, else a
 * shadow one that would have refused, else the enforced one with the fewest units left.
 */
function boundOf(
  spend: GlobalSpend,
  answer: RateLimit,
): { quota: QuotaConfig; remaining: number | undefined } | undefined {
  const { claims } = spend;
  if (answer.isLimited) {
    const refusing = claims.find(
      (c) => !c.admits && c.quota.shadow !== true && c.quota.reasonCode === answer.reasonCode,
    );
    return refusing === undefined ? undefined : { quota: refusing.quota, remaining: 0 };
  }
  const shadow = claims.find((c) => !c.admits && c.quota.shadow === true);
  if (shadow !== undefined) return { quota: shadow.quota, remaining: undefined };
  const tightest = answer.tightest;
  const quota = claims.find((c) => c.quota.id === tightest?.id)?.quota;
  return quota === undefined ? undefined : { quota, remaining: tightest!.remaining };
}
