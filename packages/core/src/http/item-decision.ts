import { decisionScope } from '../metrics/decision-channel.js';
import type { Project } from '../quotas/quota-config.js';
import type { ExceededLimit } from '../quotas/rate-limit.js';
import { checkAndUseQuotasIn } from '../sliding-window/sliding-window-rate-limiter.js';
import { reasonCodeOf } from './answers.js';
import type { DroppedItem } from './dropped-items.js';
import { REJECT_ALL_SECONDS } from './header-values.js';
import type { RequestItem } from './http-options.js';
import type { SluiceRequest } from './http-request.js';
import type { Policies } from './ietf-headers.js';
import type { StageEngines } from './stage-engines.js';

/**
 * Nothing refused (shared, never written).
 *
 * @example
 * ```ts
 * const refusals = new Array(items.length).fill(NO_REFUSALS);
 * ```
 */
export const NO_REFUSALS: readonly ExceededLimit[] = Object.freeze([]);

/**
 * What deciding one item of a request needs besides the item: made once per request and
 * stage, shared by its items.
 *
 * @example
 * ```ts
 * const context: ItemContext = { engines, req, project, key, prefix: plan.prefix, shadow: false, local: false, policies: undefined };
 * ```
 */
export interface ItemContext {
  readonly engines: StageEngines;
  readonly req: SluiceRequest;
  readonly project: Project;
  /** The requesting public key, for key-scoped quotas. */
  readonly key: string | undefined;
  /** The escaped window prefix, when the stage has windows. */
  readonly prefix: string | undefined;
  /** Decide without refusing: no rejection cache, nothing enforced. */
  readonly shadow: boolean;
  /** The engines are the local fallback's (`onStoreError: 'local'`). */
  readonly local: boolean;
  /** The IETF policies to report each limit to, when the stage sends those headers. */
  readonly policies: Policies | undefined;
  /** What shadow rules (a `shadow` quota, window group or concurrency limit) would have refused. */
  watched: DroppedItem[] | undefined;
}

/**
 * Notes in `context` that a shadow rule would have refused `item` for `limit`.
 *
 * @example
 * ```ts
 * for (const limit of result.shadowLimits ?? []) watch(context, item, limit);
 * ```
 */
export function watch(context: ItemContext, item: RequestItem, limit: ExceededLimit): void {
  const { category, quantity } = item;
  const reasonCode = reasonCodeOf(limit);
  const { retryAfter } = limit;
  context.watched ??= [];
  context.watched.push(
    category === undefined
      ? { quantity, reasonCode, retryAfter }
      : { category, quantity, reasonCode, retryAfter },
  );
}

/**
 * Decides one item on the stage's quotas, then its sliding windows (a window's refusal gives
 * back what the quotas counted), and resolves to the limits that refuse it ({@link NO_REFUSALS}
 * when none does). The concurrency limit is decided once per request, before the items.
 *
 * @example
 * ```ts
 * const refused = await decideItem(context, { category: 'error', quantity: 1 });
 * if (refused.length > 0) console.log(refused[0].reasonCode);
 * ```
 */
export async function decideItem(
  context: ItemContext,
  item: RequestItem,
): Promise<readonly ExceededLimit[]> {
  const { engines, req, project, shadow, policies } = context;
  const { quotas } = engines;
  const quotaCall = { key: context.key, category: item.category, quantity: item.quantity };
  if (quotas !== undefined) {
    const result = await quotas.isRateLimited(project, req, quotaCall, shadow);
    if (policies !== undefined) {
      for (const quota of result.quotas ?? []) {
        policies.add({
          name: quota.id,
          quota: quota.limit,
          windowSeconds: quota.windowSeconds,
          remaining: quota.remaining,
          resetSeconds: quota.resetAfter,
          refused:
            result.isLimited &&
            (item.quantity > 0 ? quota.remaining < item.quantity : quota.remaining === 0),
        });
      }
    }
    const { shadowLimits } = result;
    if (shadowLimits !== undefined) for (const limit of shadowLimits) watch(context, item, limit);
    if (result.isLimited) return result.limits ?? NO_REFUSALS;
  }
  const { windows } = engines;
  if (windows === undefined || item.quantity === 0) return NO_REFUSALS;
  // The scope of the decision message is built only for a subscriber of `sluice:decision`.
  const scope = decisionScope(
    shadow || windows.shadow,
    context.local,
    project,
    windows.reasonCode,
    item.category,
  );
  const [grant] = await checkAndUseQuotasIn(
    windows.limiter,
    [{ prefix: context.prefix!, requested: item.quantity, quotas: windows.quotas }],
    scope,
  );
  const refused = grant !== undefined && grant.granted < item.quantity;
  // A shadow rule is no policy the client faces: the IETF headers leave it out.
  if (policies !== undefined && !windows.shadow) {
    for (const quota of windows.quotas) {
      const reached = refused && grant.reachedQuotas.includes(quota);
      policies.add({
        name: `window_${quota.windowSeconds}s`,
        quota: quota.limit,
        windowSeconds: quota.windowSeconds,
        ...(reached ? { remaining: 0, resetSeconds: grant.retryAfter ?? 1 } : {}),
        refused: reached,
      });
    }
  }
  if (!refused) return NO_REFUSALS;
  const limit: ExceededLimit = {
    // A limit-0 window never lets the category in: Relay's 60 s for reject-all.
    retryAfter: Number.isFinite(grant.retryAfter) ? (grant.retryAfter ?? 1) : REJECT_ALL_SECONDS,
    categories: item.category === undefined ? [] : [item.category],
    scope: 'project',
    reasonCode: windows.reasonCode,
  };
  if (windows.shadow) {
    watch(context, item, limit);
    return NO_REFUSALS;
  }
  if (quotas !== undefined) await quotas.refund(project, req, quotaCall, shadow);
  return [limit];
}
