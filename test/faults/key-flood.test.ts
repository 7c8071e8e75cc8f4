import {
  ConcurrencyLimiter,
  MemoryStore,
  type Project,
  Quota,
  Quotas,
  SlidingWindowRateLimiter,
  type Store,
} from '@sluice/core';
import { RedisStore } from '@sluice/core/redis';
import { type RedisServer, startRedisServer } from '@sluice/test-support/redis';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const KEYS = 100_000;
const quotasOn = (store: Store) =>
  new Quotas({
    store,
    getQuotas: () => [
      { id: 'p', scope: 'project', limit: 10, windowSeconds: 60, reasonCode: 'project_quota' },
      { id: 'o', limit: 1000, windowSeconds: 3600, reasonCode: 'org_quota' },
    ],
  });

async function flood(
  run: (i: number) => Promise<unknown>,
  count: number,
  concurrency = 256,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await run(next++);
    }),
  );
}

describe('key flood', () => {
  it(`${KEYS.toLocaleString()} distinct projects keep the memory store within maxKeys`, async () => {
    const store = new MemoryStore({ maxKeys: 10_000 });
    const quotas = quotasOn(store);
    await flood((i) => quotas.isRateLimited({ id: i, organizationId: i % 1000 } as Project), KEYS);
    expect(store.size).toBeLessThanOrEqual(10_000);
    expect(store.evicted).toBeGreaterThan(KEYS - 10_000);
  });

  describe('on Redis', () => {
    let server: RedisServer;
    let client: Redis;
    beforeAll(async () => {
      server = await startRedisServer();
      client = new Redis(server.url);
    });
    afterAll(async () => {
      client.disconnect();
      await server.stop();
    });

    it('leaves zero keys without a TTL, whatever the engine', async () => {
      const store = new RedisStore(client, { timeoutMs: 5000 });
      const quotas = quotasOn(store);
      await flood((i) => quotas.isRateLimited({ id: i, organizationId: i % 1000 }), KEYS);
      await flood((i) => quotas.refund({ id: i, organizationId: i % 1000 }), 10_000);
      const windows = new SlidingWindowRateLimiter(store);
      const quota = new Quota({ windowSeconds: 60, granularitySeconds: 1, limit: 5 });
      await flood(
        (i) => windows.checkAndUseQuotas([{ prefix: `w${i}`, requested: 1, quotas: [quota] }]),
        10_000,
      );
      const limiter = new ConcurrencyLimiter(store, { limit: 2, leaseSeconds: 30 });
      await flood(async (i) => {
        const lease = await limiter.acquire(`c${i}`);
        if (i % 2 === 0) await lease?.release();
      }, 10_000);

      let cursor = '0';
      let keys = 0;
      let withoutTtl = 0;
      do {
        const [next, batch] = await client.scan(cursor, 'COUNT', 5000);
        cursor = next;
        keys += batch.length;
        const ttls = await Promise.all(batch.map((key) => client.pttl(key)));
        withoutTtl += ttls.filter((ttl) => ttl < 0).length;
      } while (cursor !== '0');
      expect(keys).toBeGreaterThan(KEYS);
      expect(withoutTtl).toBe(0);
    });
  });
});
