import type { ExceededLimit } from '../quotas/rate-limit.js';
import type { RequestItem } from './http-options.js';
import { type ItemContext, watch } from './item-decision.js';

/**
 * Applies a rule that refuses a request whole (a lockout, a cardinality limit): with
 * `reportOnly` (a rule or stage in shadow) each item is only watched, reported as the rule
 * would have refused it, and the request goes on (false); otherwise every item is refused by
 * `limit` and no later rule needs to decide it (true).
 *
 * @example
 * ```ts
 * const decided = refuseWhole(context, items, refusals, lockoutLimit(lockout, 30), lockout.shadow);
 * if (!decided) for (const item of items) await decideItem(context, item);
 * ```
 */
export function refuseWhole(
  context: ItemContext,
  items: readonly RequestItem[],
  refusals: (readonly ExceededLimit[])[],
  limit: ExceededLimit,
  reportOnly: boolean,
): boolean {
  if (reportOnly) {
    for (const item of items) watch(context, item, limit);
    return false;
  }
  refusals.fill([limit]);
  return true;
}
