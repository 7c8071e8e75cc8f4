import type { ExceededLimit } from '../quotas/rate-limit.js';

/**
 * `limits` without repeats: a limit is a repeat when an earlier one has the same categories,
 * scope and reason code (two items refused by one quota list it twice), so
 * `X-Sentry-Rate-Limits` names each once; the first one is kept. A list of fewer than two is
 * given back as it is.
 *
 * @example
 * ```ts
 * const org = { retryAfter: 30, categories: [], scope: 'organization', reasonCode: 'org_quota' };
 * uniqueLimits([org, { ...org, retryAfter: 10 }]); // [org]
 * ```
 */
export function uniqueLimits(limits: readonly ExceededLimit[]): readonly ExceededLimit[] {
  if (limits.length < 2) return limits;
  const seen = new Set<string>();
  return limits.filter((r) => {
    const id = `${r.categories.join(';')}:${r.scope}:${r.reasonCode}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}
