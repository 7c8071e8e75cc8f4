import type { GrantedQuota, Quota, RequestedQuota } from '@sluice/core';
import type { Redis } from 'ioredis';

/**
 * sentry-redis-tools' sliding-window design, rewritten in TypeScript for comparison only: a key
 * per granule; a check reads every granule of every window with one pipeline of GETs, and a
 * use adds the grant with one pipeline of INCRBY + EXPIRE. The two steps are separate round
 * trips, so concurrent callers can over-spend (as upstream warns). Granules are numbered as in
 * sluice (newest first from floor(t / granularity)) so both count the same window; pipelines
 * are plain (no MULTI), the cheapest way to send them.
 *
 * @example
 * ```ts
 * const upstream = new NonAtomicSlidingWindow(client, 'bench');
 * const grants = await upstream.checkAndUseQuotas(requests, Date.now() / 1000);
 * ```
 */
export class NonAtomicSlidingWindow {
  constructor(
    private readonly client: Redis,
    private readonly prefix: string,
  ) {}

  key(prefix: string, quota: Quota, granule: number): string {
    const scope = quota.prefixOverride ?? prefix;
    return `${this.prefix}:sliding-window-rate-limit:${scope}:${quota.windowSeconds}:${quota.granularitySeconds}:${granule}`;
  }

  async checkWithinQuotas(
    requests: RequestedQuota[],
    timestamp = Date.now() / 1000,
  ): Promise<[number, GrantedQuota[]]> {
    const keys = new Set<string>();
    for (const r of requests) {
      for (const q of r.quotas)
        for (const g of q.iterWindow(timestamp)) keys.add(this.key(r.prefix, q, g));
    }
    const ordered = [...keys];
    const pipeline = this.client.pipeline();
    for (const k of ordered) pipeline.get(k);
    const results = (await pipeline.exec()) ?? [];
    const values = new Map(ordered.map((k, i) => [k, Number(results[i]?.[1] ?? 0)]));
    // Grants to shared (prefixOverride) quotas earlier in the call count, as upstream does.
    const sharedUse = new Map<string, number>();
    const sharedId = (q: Quota) => `${q.prefixOverride}:${q.windowSeconds}:${q.granularitySeconds}`;
    const grants = requests.map((r) => {
      let granted = r.requested;
      const reachedQuotas: Quota[] = [];
      for (const q of r.quotas) {
        let used = q.prefixOverride === undefined ? 0 : (sharedUse.get(sharedId(q)) ?? 0);
        for (const g of q.iterWindow(timestamp)) used += values.get(this.key(r.prefix, q, g)) ?? 0;
        const remaining = Math.max(0, q.limit - used);
        if (remaining < granted) {
          granted = remaining;
          reachedQuotas.push(q);
        }
      }
      for (const q of r.quotas) {
        if (q.prefixOverride !== undefined) {
          sharedUse.set(sharedId(q), (sharedUse.get(sharedId(q)) ?? 0) + granted);
        }
      }
      return { prefix: r.prefix, granted, reachedQuotas };
    });
    return [timestamp, grants];
  }

  async useQuotas(
    requests: RequestedQuota[],
    grants: GrantedQuota[],
    timestamp: number,
  ): Promise<void> {
    const increments = new Map<string, { by: number; ttl: number }>();
    requests.forEach((r, i) => {
      for (const q of r.quotas) {
        const key = this.key(r.prefix, q, q.granuleAt(timestamp));
        const entry = increments.get(key) ?? { by: 0, ttl: q.windowSeconds };
        entry.by += grants[i]!.granted;
        increments.set(key, entry);
      }
    });
    const pipeline = this.client.pipeline();
    for (const [key, { by, ttl }] of increments) pipeline.incrby(key, by).expire(key, ttl);
    await pipeline.exec();
  }

  async checkAndUseQuotas(requests: RequestedQuota[], timestamp?: number): Promise<GrantedQuota[]> {
    const [t, grants] = await this.checkWithinQuotas(requests, timestamp);
    await this.useQuotas(requests, grants, t);
    return grants;
  }
}
