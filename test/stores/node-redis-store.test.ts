import {
  InvalidConfiguration,
  isStoreUnavailable,
  type Project,
  type QuotaConfig,
  Quotas,
} from '@sluice/core';
import { nodeRedisClient, RedisStore } from '@sluice/core/redis';
import { startRedisServer } from '@sluice/test-support/redis';
import { createClient, createCluster } from 'redis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

// The engines' contract and model suites run on node-redis through the `node-redis` and
// `node-redis-cluster` store kinds (@sluice/test-support/stores); this file covers what is particular
// to the adapter.

const project: Project = { id: 1, organizationId: 1 };
const quota: QuotaConfig = {
  id: 'p',
  scope: 'project',
  limit: 1000,
  windowSeconds: 60,
  reasonCode: 'project_quota',
};

describe('RedisStore on node-redis (`redis` v5)', () => {
  let client: Awaited<ReturnType<typeof connect>>;
  const connect = () =>
    createClient({ url: inject('redisUrl') })
      .on('error', () => {})
      .connect();
  beforeAll(async () => {
    client = await connect();
  });
  afterAll(() => client.destroy());

  const evalshaCalls = async () =>
    Number(/cmdstat_evalsha:calls=(\d+)/.exec(await client.info('commandstats'))?.[1] ?? 0);

  it('rejects what is not a node-redis client, and a bare node-redis client, naming the option', () => {
    expect(() => nodeRedisClient({} as never)).toThrow(InvalidConfiguration);
    expect(() => nodeRedisClient(null as never)).toThrow(/`client`.*createClient/);
    expect(() => new RedisStore(client as never)).toThrow(/nodeRedisClient/);
  });

  it('is a single node for createClient and a Cluster for createCluster', async () => {
    expect(new RedisStore(nodeRedisClient(client)).clustered).toBe(false);
    const rootNodes = inject('clusterNodes').map((n) => ({ url: `redis://${n.host}:${n.port}` }));
    const cluster = await createCluster({ rootNodes })
      .on('error', () => {})
      .connect();
    try {
      const store = new RedisStore(nodeRedisClient(cluster), { prefix: `nrc${Date.now()}` });
      expect(store.clustered).toBe(true);
      // Organizations on different nodes: each decision goes to its own slot's master.
      const quotas = new Quotas({ store, getQuotas: () => [quota] });
      for (let org = 0; org < 20; org++) {
        const p = { id: org, organizationId: org };
        expect((await quotas.isRateLimited(p, { quantity: org + 1 })).isLimited).toBe(false);
        expect((await quotas.getUsage(p))[0]!.used).toBe(org + 1);
      }
    } finally {
      cluster.destroy();
    }
  });

  it('batches the decisions queued behind one in flight, as on ioredis', async () => {
    const quotas = new Quotas({
      store: new RedisStore(nodeRedisClient(client), { prefix: `nrbatch${Date.now()}` }),
      getQuotas: () => [quota],
    });
    await quotas.isRateLimited(project);
    const start = await evalshaCalls();
    const results = await Promise.all(
      Array.from({ length: 64 }, () => quotas.isRateLimited(project)),
    );
    expect(results.every((r) => !r.isLimited)).toBe(true);
    // The first alone, the 63 behind it in batches of a quarter of 64: 16, 16, 16, 15.
    expect((await evalshaCalls()) - start).toBe(5);
    expect((await quotas.getUsage(project))[0]!.used).toBe(65);
  });

  it('reloads its scripts after SCRIPT FLUSH: node-redis reports NOSCRIPT as ioredis does', async () => {
    const quotas = new Quotas({
      store: new RedisStore(nodeRedisClient(client), { prefix: `nrflush${Date.now()}` }),
      getQuotas: () => [quota],
    });
    await quotas.isRateLimited(project);
    await client.scriptFlush();
    await Promise.all(Array.from({ length: 10 }, () => quotas.isRateLimited(project)));
    expect((await quotas.getUsage(project))[0]!.used).toBe(11);
  });

  it('fails within its deadline with StoreUnavailableError when Redis is gone', async () => {
    const server = await startRedisServer();
    const own = await createClient({ url: server.url, disableOfflineQueue: true })
      .on('error', () => {})
      .connect();
    try {
      const quotas = new Quotas({
        store: new RedisStore(nodeRedisClient(own), { timeoutMs: 100 }),
        getQuotas: () => [quota],
      });
      expect((await quotas.isRateLimited(project)).isLimited).toBe(false);
      await server.stop();
      for (let i = 0; i < 5; i++) {
        const started = performance.now();
        const error = await quotas.isRateLimited(project).catch((e: unknown) => e);
        expect(isStoreUnavailable(error), String(error)).toBe(true);
        expect(performance.now() - started).toBeLessThan(200);
      }
    } finally {
      own.destroy();
      await server.stop();
    }
  });
});
