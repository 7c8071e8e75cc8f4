import { ConcurrencyLimiter, Quota, Quotas, SlidingWindowRateLimiter } from '@sluice/core';
import { RedisStore } from '@sluice/core/redis';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

// docs/redis.md's version table: what each Redis command sluice sends needs, checked on the
// one version this machine has (Debian's). Older versions are documented as untested.
describe('the Redis version this machine runs', () => {
  let client: Redis;
  let version: number[];
  beforeAll(async () => {
    client = new Redis(inject('redisUrl'));
    const info = await client.info('server');
    version = /redis_version:(\d+)\.(\d+)\.(\d+)/.exec(info)!.slice(1).map(Number);
    console.log(`redis-server ${version.join('.')}`);
  });
  afterAll(() => client.disconnect());

  it('is at least 7.0, the version docs/redis.md says is tested', () => {
    expect(version[0]).toBeGreaterThanOrEqual(7);
  });

  it('accepts the version-dependent forms the scripts use', async () => {
    const key = `version-${process.pid}-${Date.now()}`;
    await client.set(key, '1', 'PX', 60_000); // SET ... PX: 2.6.12
    expect(await client.pexpire(key, 120_000, 'GT')).toBe(1); // PEXPIRE ... GT: 7.0
    expect(await client.pexpire(key, 1_000, 'GT')).toBe(0);
    expect(await client.hset(`${key}:h`, 's', 1, 'l', 2)).toBe(2); // HSET of many fields: 4.0
    // A script that reads TIME and then writes: effects replication, the default from 5.0.
    const written = await client.eval(
      `local t = redis.call('TIME'); redis.call('SET', KEYS[1], t[1], 'PX', 60000);
       return {redis.REDIS_VERSION_NUM or 0, redis.call('GET', KEYS[1]) == t[1] and 1 or 0}`,
      1,
      `${key}:t`,
    );
    expect(written).toEqual([expect.any(Number), 1]);
    expect((written as number[])[0]).toBeGreaterThanOrEqual(0x070000);
    await client.del(key, `${key}:h`, `${key}:t`);
  });

  it("runs every engine's scripts", async () => {
    const store = new RedisStore(client, { prefix: `version${process.pid}${Date.now()}` });
    const quotas = new Quotas({
      store,
      getQuotas: () => [
        { id: 'p', scope: 'project', limit: 1, windowSeconds: 60, reasonCode: 'q' },
      ],
    });
    const project = { id: 1, organizationId: 1 };
    expect((await quotas.isRateLimited(project)).isLimited).toBe(false);
    expect((await quotas.isRateLimited(project)).isLimited).toBe(true);
    await quotas.refund(project);
    expect((await quotas.getUsage(project))[0]!.used).toBe(0);

    const windows = new SlidingWindowRateLimiter(store);
    const quota = new Quota({ windowSeconds: 10, granularitySeconds: 1, limit: 5 });
    const [grant] = await windows.checkAndUseQuotas([
      { prefix: 'w', requested: 6, quotas: [quota] },
    ]);
    expect(grant!.granted).toBe(5);

    const limiter = new ConcurrencyLimiter(store, { limit: 2, leaseSeconds: 1 });
    const first = await limiter.acquire('c');
    const second = await limiter.acquire('c');
    expect(await limiter.acquire('c')).toBeNull();
    expect(await first!.extend()).toBe(true); // keep_until: PEXPIRE ... GT on 7.0
    await second!.release();
    expect(await limiter.inFlight('c')).toBe(1);
    await first!.release();
  });
});
