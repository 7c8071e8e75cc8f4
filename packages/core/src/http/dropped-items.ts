import type { ExceededLimit } from '../quotas/rate-limit.js';
import { reasonCodeOf } from './answers.js';
import type { RequestItem } from './http-options.js';
import { uniqueLimits } from './unique-limits.js';

/**
 * A dropped item: what was refused and why.
 *
 * @example
 * ```ts
 * const dropped: DroppedItem = { category: 'error', quantity: 3, reasonCode: 'project_quota', retryAfter: 12 };
 * ```
 */
export interface DroppedItem extends RequestItem {
  reasonCode: string;
  retryAfter: number;
}

/**
 * Splits `items` by their refusals (`refusals[i]` are the limits that refused `items[i]`;
 * empty: admitted): pushes each refused item onto `dropped`, with the reason and retry time of
 * the limit that lasts longest (the first on a tie), and returns the admitted ones (`items`
 * itself when none was refused, so the common case copies nothing).
 *
 * @example
 * ```ts
 * const dropped: DroppedItem[] = [];
 * const accepted = dropRefused([error, transaction], [[projectQuotaLimit], []], dropped);
 * // accepted: [transaction]; dropped: [{ ...error, reasonCode: 'project_quota', retryAfter: 12 }]
 * ```
 */
export function dropRefused(
  items: RequestItem[],
  refusals: readonly (readonly ExceededLimit[])[],
  dropped: DroppedItem[],
): RequestItem[] {
  let accepted = items;
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    const list = refusals[i]!;
    if (list.length === 0) {
      if (accepted !== items) accepted.push(item);
      continue;
    }
    if (accepted === items) accepted = items.slice(0, i);
    let worst = list[0]!;
    for (const r of list) if (r.retryAfter > worst.retryAfter) worst = r;
    const { retryAfter } = worst;
    const reasonCode = reasonCodeOf(worst);
    dropped.push(
      item.category === undefined
        ? { quantity: item.quantity, reasonCode, retryAfter }
        : { category: item.category, quantity: item.quantity, reasonCode, retryAfter },
    );
  }
  return accepted;
}

/**
 * Every limit that refused an item, in item order, each named once: what
 * `X-Sentry-Rate-Limits` lists.
 *
 * @example
 * ```ts
 * refusedLimits([[orgQuotaLimit], [], [orgQuotaLimit]]); // [orgQuotaLimit]
 * ```
 */
export function refusedLimits(
  refusals: readonly (readonly ExceededLimit[])[],
): readonly ExceededLimit[] {
  let refused: readonly ExceededLimit[] = [];
  for (const list of refusals) {
    if (list.length > 0) refused = refused.length === 0 ? list : refused.concat(list);
  }
  return uniqueLimits(refused);
}
