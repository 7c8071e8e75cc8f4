import { Quota, SlidingWindowRateLimiter } from '@sluice/core';
import { RedisStore } from '@sluice/core/redis';
import { fixture, runChild } from '@sluice/test-support/processes';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

const TARGETS = ['redis', 'cluster'] as const;

/** Two processes of `count` concurrent calls each, started together; resolves the units granted. */
async function burst(
  target: string,
  prefix: string,
  count: number,
  limit: number,
  timestamp: number,
  mode: 'single' | 'spanning',
): Promise<number> {
  const startAt = String(Date.now() + 2500);
  const args = [target, prefix, String(count), String(limit), String(timestamp), startAt, mode];
  const runs = await Promise.all([
    runChild(fixture('sliding-window-burst.ts'), args),
    runChild(fixture('sliding-window-burst.ts'), args),
  ]);
  for (const run of runs) expect(run.code, run.stderr).toBe(0);
  return runs.reduce((sum, run) => sum + (JSON.parse(run.stdout).granted as number), 0);
}

describe.each(TARGETS)('SlidingWindowRateLimiter exactness on %s', (kind) => {
  let client: Redis | Cluster;
  const target = () =>
    kind === 'redis' ? inject('redisUrl') : JSON.stringify(inject('clusterNodes'));
  beforeAll(() => {
    client =
      kind === 'redis'
        ? new Redis(inject('redisUrl'))
        : new Cluster(inject('clusterNodes'), { redisOptions: { maxRetriesPerRequest: 1 } });
  });
  afterAll(() => client.disconnect());

  it('500 concurrent checkAndUseQuotas of 1 unit from two processes against limit 50 grant exactly 50', async () => {
    const prefix = `swx${process.pid}${Date.now()}`;
    const timestamp = Date.now() / 1000;
    expect(await burst(target(), prefix, 250, 50, timestamp, 'single')).toBe(50);
    const limiter = new SlidingWindowRateLimiter(new RedisStore(client, { prefix }));
    const quota = new Quota({ windowSeconds: 60, granularitySeconds: 1, limit: 50 });
    const [, [grant]] = await limiter.checkWithinQuotas(
      [{ prefix: 'org:1', requested: 1, quotas: [quota] }],
      timestamp,
    );
    expect(grant).toMatchObject({ granted: 0, reachedQuotas: [quota] });
  });

  it('calls spanning two hash slots (own and shared global windows) never over-grant either', async () => {
    const prefix = `swy${process.pid}${Date.now()}`;
    if (kind === 'cluster') {
      const slot = (tag: string) => (client as Cluster).cluster('KEYSLOT', `{${tag}}`);
      expect(await slot('global')).not.toBe(await slot('org%003a1'));
    }
    const timestamp = Date.now() / 1000;
    expect(await burst(target(), prefix, 250, 50, timestamp, 'spanning')).toBe(50);
    // What later slots refused was given back: the own windows hold exactly the 50 granted.
    const limiter = new SlidingWindowRateLimiter(new RedisStore(client, { prefix }));
    const own = new Quota({ windowSeconds: 60, granularitySeconds: 1, limit: 1000 });
    const [, grants] = await limiter.checkWithinQuotas(
      [0, 1, 2, 3].map((i) => ({ prefix: `org:${i}`, requested: 1000, quotas: [own] })),
      timestamp,
    );
    expect(grants.reduce((sum, g) => sum + (1000 - g.granted), 0)).toBe(50);
  });
});
