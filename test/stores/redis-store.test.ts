import { InvalidConfiguration, type Project, Quotas, StoreUnavailableError } from '@sluice/core';
import { RedisStore } from '@sluice/core/redis';
import { freePort, type RedisServer, startRedisServer } from '@sluice/test-support/redis';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

const project: Project = { id: 1, organizationId: 1 };
const getQuotas = () => [
  {
    id: 'p',
    scope: 'project' as const,
    limit: 1000,
    windowSeconds: 60,
    reasonCode: 'project_quota',
  },
  { id: 'o', limit: 5000, windowSeconds: 60, reasonCode: 'org_quota' },
];

async function evalshaCalls(client: Redis): Promise<number> {
  const stats = await client.info('commandstats');
  return Number(/cmdstat_evalsha:calls=(\d+)/.exec(stats)?.[1] ?? 0);
}

describe('RedisStore', () => {
  let client: Redis;
  beforeAll(() => {
    client = new Redis(inject('redisUrl'));
  });
  afterAll(() => client.disconnect());

  it('makes one EVALSHA per lone decision, and batches the decisions queued behind one in flight', async () => {
    const quotas = new Quotas({
      store: new RedisStore(client, { prefix: `batch${Date.now()}` }),
      getQuotas,
    });
    await quotas.isRateLimited(project);
    const before = await evalshaCalls(client);
    await quotas.isRateLimited(project);
    expect((await evalshaCalls(client)) - before - 1).toBe(0); // the INFO itself is not an EVALSHA
    const start = await evalshaCalls(client);
    const results = await Promise.all(
      Array.from({ length: 64 }, () => quotas.isRateLimited(project)),
    );
    expect(results.every((r) => !r.isLimited)).toBe(true);
    // The first goes out alone (nothing in flight); the 63 queued behind it go in batches of a
    // quarter of the 64 queued and in flight: 16, 16, 16, 15.
    expect((await evalshaCalls(client)) - start).toBe(5);
    expect((await quotas.getUsage(project))[0]!.used).toBe(66);
  });

  it('reloads its scripts after SCRIPT FLUSH without losing or doubling a decision', async () => {
    const quotas = new Quotas({
      store: new RedisStore(client, { prefix: `flush${Date.now()}` }),
      getQuotas,
    });
    await quotas.isRateLimited(project);
    await client.script('FLUSH');
    const results = await Promise.all(
      Array.from({ length: 20 }, () => quotas.isRateLimited(project)),
    );
    expect(results.every((r) => !r.isLimited)).toBe(true);
    expect((await quotas.getUsage(project))[0]!.used).toBe(21);
  });

  it('takes the time from Redis when no timestamp is given', async () => {
    const store = new RedisStore(client, { prefix: `time${Date.now()}` });
    const quotas = new Quotas({
      store,
      getQuotas: () => [{ id: 'p', limit: 1, windowSeconds: 3600, reasonCode: 'project_quota' }],
    });
    await quotas.isRateLimited(project);
    const result = await quotas.isRateLimited(project);
    const [seconds, micros] = (await client.time()) as [number, number];
    const serverNow = Number(seconds) + Number(micros) / 1e6;
    const next = (Math.floor((serverNow - 1) / 3600) + 1) * 3600 + 1; // org 1: shift 1
    expect(result.retryAfter).toBeCloseTo(next - serverNow, 0);
  });

  it('rejects invalid options with the typed error', () => {
    expect(() => new RedisStore(client, { timeoutMs: 0 })).toThrow(InvalidConfiguration);
    expect(() => new RedisStore(client, { timeoutMs: Number.NaN })).toThrow(/timeoutMs/);
    expect(() => new RedisStore(client, { prefix: 'a{b' })).toThrow(/prefix/);
    expect(() => new RedisStore(client, { maxBatch: 0 })).toThrow(/maxBatch/);
    expect(() => new RedisStore({} as never)).toThrow(/client/);
  });
});

describe('RedisStore deadline', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    server.process.kill('SIGCONT');
    await server.stop();
  });

  it('a hung Redis (SIGSTOP) costs at most the deadline, then the store recovers', async () => {
    const client = new Redis(server.url);
    const quotas = new Quotas({
      store: new RedisStore(client, { timeoutMs: 150, prefix: 'hang' }),
      getQuotas,
    });
    await quotas.isRateLimited(project);
    server.process.kill('SIGSTOP');
    try {
      const started = performance.now();
      const outcomes = await Promise.allSettled(
        Array.from({ length: 50 }, () => quotas.isRateLimited(project)),
      );
      const elapsed = performance.now() - started;
      expect(
        outcomes.every((o) => o.status === 'rejected' && o.reason instanceof StoreUnavailableError),
      ).toBe(true);
      expect((outcomes[0] as PromiseRejectedResult).reason.timedOut).toBe(true);
      expect(elapsed).toBeLessThan(150 + 100);
    } finally {
      server.process.kill('SIGCONT');
    }
    expect((await quotas.isRateLimited(project)).isLimited).toBe(false);
    client.disconnect();
  });

  it('after a missed deadline, one probe waits and every other call fails at once, until Redis answers', async () => {
    const client = new Redis(server.url);
    const quotas = new Quotas({
      store: new RedisStore(client, { timeoutMs: 150, prefix: 'probe' }),
      getQuotas,
    });
    await quotas.isRateLimited(project);
    server.process.kill('SIGSTOP');
    try {
      await expect(quotas.isRateLimited(project)).rejects.toMatchObject({ timedOut: true });
      const probe = quotas.isRateLimited(project).catch((e: unknown) => e);
      const started = performance.now();
      const fast = await Promise.allSettled(
        Array.from({ length: 20 }, () => quotas.isRateLimited(project)),
      );
      expect(performance.now() - started).toBeLessThan(50);
      expect(fast.every((o) => o.status === 'rejected' && o.reason.timedOut === false)).toBe(true);
      expect(await probe).toMatchObject({ timedOut: true });
    } finally {
      server.process.kill('SIGCONT');
    }
    expect((await quotas.isRateLimited(project)).isLimited).toBe(false);
    expect((await quotas.isRateLimited(project)).isLimited).toBe(false);
    client.disconnect();
  });

  it('waits out the deadline on every call with failFast: false', async () => {
    const client = new Redis(server.url);
    const quotas = new Quotas({
      store: new RedisStore(client, { timeoutMs: 100, prefix: 'nofail', failFast: false }),
      getQuotas,
    });
    await quotas.isRateLimited(project);
    server.process.kill('SIGSTOP');
    try {
      await expect(quotas.isRateLimited(project)).rejects.toMatchObject({ timedOut: true });
      await expect(quotas.isRateLimited(project)).rejects.toMatchObject({ timedOut: true });
    } finally {
      server.process.kill('SIGCONT');
    }
    client.disconnect();
  });

  it('an unreachable Redis costs at most the deadline', async () => {
    const client = new Redis(await freePort(), '127.0.0.1', {
      lazyConnect: true,
      retryStrategy: () => 50,
    });
    client.on('error', () => {});
    const quotas = new Quotas({ store: new RedisStore(client, { timeoutMs: 100 }), getQuotas });
    const started = performance.now();
    const error = await quotas.isRateLimited(project).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(performance.now() - started).toBeLessThan(100 + 100);
    client.disconnect();
  });
});
