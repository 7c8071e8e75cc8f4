import { isStoreUnavailable, type QuotaConfig, Quotas } from '@sluice/core';
import { EVICTING_REDIS_WARNING, RedisStore, readMemoryPolicy } from '@sluice/core/redis';
import { sluice } from '@sluice/express';
import { type RedisServer, startRedisServer } from '@sluice/test-support/redis';
import express from 'express';
import { Redis } from 'ioredis';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// A Redis with a 4 MB memory limit, once per policy: what an evicting policy does to sluice's
// counters (measured and printed), and what a full Redis under noeviction does to decisions.

const LIMIT = 100;
const quota: QuotaConfig = {
  id: 'p',
  scope: 'project',
  limit: LIMIT,
  windowSeconds: 600,
  reasonCode: 'project_quota',
};
const project = (id: number) => ({ id, organizationId: id });
const FILLER = 'x'.repeat(1024);

async function limitedServer(policy: string): Promise<{ server: RedisServer; client: Redis }> {
  const server = await startRedisServer(['--maxmemory', '4mb', '--maxmemory-policy', policy]);
  const client = new Redis(server.url, { maxRetriesPerRequest: 0 });
  client.on('error', () => {});
  return { server, client };
}

/** Writes `count` filler keys of 1 KiB, pipelined; returns Redis's count of evicted keys. */
async function flood(client: Redis, count: number): Promise<number> {
  for (let written = 0; written < count; written += 250) {
    const pipeline = client.pipeline();
    for (let i = 0; i < 250; i++) pipeline.set(`filler:${written + i}`, FILLER);
    const replies = (await pipeline.exec()) ?? [];
    expect(replies.filter(([error]) => error !== null)).toEqual([]);
  }
  return Number(/evicted_keys:(\d+)/.exec(await client.info('stats'))![1]);
}

/**
 * Fills a noeviction Redis with values of 64 KiB until it refuses one (OOM), then lowers its
 * limit by 1 MB: Redis counts client buffers in its memory, which come and go, so a Redis filled
 * just to its limit can take a small write again; one a megabyte over it cannot.
 */
async function fillPastLimit(client: Redis): Promise<number> {
  const value = 'x'.repeat(64 * 1024);
  for (let written = 0; written < 1000; written++) {
    const error = await client.set(`big:${written}`, value).then(
      () => undefined,
      (e: unknown) => e,
    );
    if (error !== undefined) {
      expect(String(error)).toMatch(/OOM/);
      await client.config('SET', 'maxmemory', String(3 * 1024 * 1024));
      return written;
    }
  }
  throw new Error('Redis never reached its memory limit');
}

async function admitted(quotas: Quotas, id: number, tries: number): Promise<number> {
  let count = 0;
  for (let i = 0; i < tries; i++) {
    if (!(await quotas.isRateLimited(project(id))).isLimited) count++;
  }
  return count;
}

describe('Redis under maxmemory-policy allkeys-lru (4 MB)', () => {
  let redis: { server: RedisServer; client: Redis };
  beforeAll(async () => {
    redis = await limitedServer('allkeys-lru');
  });
  afterAll(async () => {
    redis.client.disconnect();
    await redis.server.stop();
  });

  it('reads the policy as one that evicts sluice keys, and warns once per client with a code', async () => {
    expect(await readMemoryPolicy(redis.client)).toEqual({
      maxmemoryBytes: 4 * 1024 * 1024,
      policy: 'allkeys-lru',
      evicts: true,
    });
    const warnings: Error[] = [];
    const listen = (w: Error) => warnings.push(w);
    process.on('warning', listen);
    try {
      const stores = [new RedisStore(redis.client), new RedisStore(redis.client)];
      for (const store of stores) expect((await store.memoryPolicy)?.policy).toBe('allkeys-lru');
      await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on next tick
      const ours = warnings.filter((w) => (w as { code?: string }).code === EVICTING_REDIS_WARNING);
      expect(ours).toHaveLength(1);
      expect(ours[0]!.message).toMatch(/allkeys-lru.*noeviction/);
    } finally {
      process.off('warning', listen);
    }
  });

  it('forgets a full quota when its counter is evicted: the project is admitted again', async () => {
    const quotas = new Quotas({
      store: new RedisStore(redis.client, { prefix: 'lru', timeoutMs: 2000 }),
      getQuotas: () => [quota],
    });
    expect(await admitted(quotas, 1, LIMIT + 20)).toBe(LIMIT);
    // 8 MB of other keys through a 4 MB Redis, again until the counter is gone: Redis's LRU is
    // approximate (it evicts the oldest of a few sampled keys), so one pass may spare it.
    let evicted = await flood(redis.client, 8000);
    for (let pass = 1; pass < 10 && (await redis.client.keys('lru:*')).length > 0; pass++) {
      evicted = await flood(redis.client, 8000);
    }
    expect(await redis.client.keys('lru:*')).toEqual([]);
    const again = await admitted(quotas, 1, LIMIT + 20);
    console.log(
      `allkeys-lru, 4 MB: 8,000 filler keys of 1 KiB evicted ${evicted} keys; a project that had ` +
        `used its ${LIMIT} was admitted ${again} more in the same window (over-admission ${again})`,
    );
    expect(evicted).toBeGreaterThan(1000);
    expect(again).toBe(LIMIT);
  });
});

describe('Redis under maxmemory-policy noeviction (4 MB), full', () => {
  let redis: { server: RedisServer; client: Redis };
  let store: RedisStore;
  let quotas: Quotas;
  beforeAll(async () => {
    redis = await limitedServer('noeviction');
    store = new RedisStore(redis.client, { prefix: 'full', timeoutMs: 2000 });
    quotas = new Quotas({ store, getQuotas: () => [quota] });
    expect(await admitted(quotas, 1, LIMIT)).toBe(LIMIT); // project 1 is at its limit
    expect(await fillPastLimit(redis.client)).toBeGreaterThan(10);
  });
  afterAll(async () => {
    redis.client.disconnect();
    await redis.server.stop();
  });

  it('reads the policy as one that keeps sluice keys', async () => {
    expect(await store.memoryPolicy).toMatchObject({ policy: 'noeviction', evicts: false });
  });

  it('still refuses what is over quota, and fails decisions that must count with OOM', async () => {
    expect((await quotas.isRateLimited(project(1))).isLimited).toBe(true);
    expect((await quotas.getUsage(project(1)))[0]!.used).toBe(LIMIT);
    const error = await quotas.isRateLimited(project(2)).catch((e: unknown) => e);
    expect(isStoreUnavailable(error)).toBe(true);
    expect(String(error)).toMatch(/OOM command not allowed/);
  });

  it.each([
    ['allow', 200],
    ['deny', 503],
  ] as const)(
    'answers through Express by onStoreError %s: %i, and 429 over quota',
    async (policy, status) => {
      const app = express();
      const events: string[] = [];
      const limiter = sluice({
        store,
        identify: (req) => ({ project: project(Number(req.query.p)) }),
        quotas: [quota],
        onStoreError: policy,
      });
      limiter.events.on('store_error', (e) => events.push(e.error.message));
      app.use(limiter);
      app.get('/work', (_req, res) => {
        res.send('ok');
      });
      expect((await request(app).get('/work?p=1')).status).toBe(429);
      expect((await request(app).get('/work?p=3')).status).toBe(status);
      expect(events).toEqual([expect.stringMatching(/OOM/)]);
    },
  );
});
