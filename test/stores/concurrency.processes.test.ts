import { ConcurrencyLimiter, type Lease } from '@sluice/core';
import { RedisStore } from '@sluice/core/redis';
import { type Fixture, fixture, runChild, startFixture } from '@sluice/test-support/processes';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

/** The Redis kinds several processes can share; the memory store lives in one process. */
const SHARED_KINDS = ['redis', 'cluster'] as const;

describe.each(SHARED_KINDS)('ConcurrencyLimiter across processes on %s', (kind) => {
  let client: Redis | Cluster;
  let env: Record<string, string>;
  beforeAll(() => {
    if (kind === 'redis') {
      client = new Redis(inject('redisUrl'), { maxRetriesPerRequest: 1 });
      env = { SLUICE_REDIS_URL: inject('redisUrl') };
    } else {
      client = new Cluster(inject('clusterNodes'), { redisOptions: { maxRetriesPerRequest: 1 } });
      env = { SLUICE_CLUSTER_NODES: JSON.stringify(inject('clusterNodes')) };
    }
  });
  afterAll(() => client.disconnect());
  const unique = (name: string) =>
    `${name}${process.pid}x${Math.random().toString(36).slice(2, 8)}`;

  it('two processes x 200 concurrent runs with limit 5: observed concurrency is exactly 5', async () => {
    const prefix = unique('procs');
    const startAt = String(Date.now() + 1500);
    const args = [prefix, 'snuba', '200', '5', '20', '20', startAt];
    const runs = await Promise.all([
      runChild(fixture('concurrency-runner.ts'), args, env),
      runChild(fixture('concurrency-runner.ts'), args, env),
    ]);
    for (const run of runs) expect(run.code, run.stderr).toBe(0);
    const counts = runs.map((run) => JSON.parse(run.stdout) as { ran: number; skipped: number });
    for (const { ran, skipped } of counts) expect(ran + skipped).toBe(200);
    expect(counts[0]!.ran + counts[1]!.ran).toBeGreaterThan(5);
    expect(await client.get(`${prefix}:observed:{snuba}:highest`)).toBe('5');
    expect(await client.get(`${prefix}:observed:{snuba}:live`)).toBe('0');
    const limiter = new ConcurrencyLimiter(new RedisStore(client, { prefix }), { limit: 5 });
    expect(await limiter.inFlight('snuba')).toBe(0);
  });

  it('a paused holder loses its slot to another process, then can neither extend nor free it', async () => {
    const prefix = unique('pause');
    const limiter = new ConcurrencyLimiter(new RedisStore(client, { prefix, timeoutMs: 2000 }), {
      limit: 1,
      leaseSeconds: 0.5,
      retryIntervalSeconds: 0.1,
    });
    const reclaimed: number[] = [];
    limiter.events.on('reclaimed', ({ count }) => reclaimed.push(count));
    const paused = startFixture('concurrency-holder.ts', [prefix, 'q', '1', '0.5', '0'], env);
    let mine: Lease | null = null;
    try {
      expect((await paused.next()).id).toEqual(expect.any(String));
      await paused.signal('SIGSTOP');
      const started = performance.now();
      mine = await limiter.acquire('q', { waitSeconds: 2 });
      expect(mine).not.toBeNull();
      expect(performance.now() - started).toBeLessThan(500 + 1000);

      await paused.signal('SIGCONT');
      paused.send('extend');
      expect(await paused.next()).toEqual({ step: 'extend', extended: false });
      paused.send('release');
      expect(await paused.next()).toEqual({ step: 'release', inFlight: 1 });
      expect(await limiter.acquire('q')).toBeNull();
      expect(await mine!.extend()).toBe(true);
      paused.send('exit');
    } finally {
      await paused.signal('SIGKILL');
      await mine?.release();
    }
    expect(await limiter.inFlight('q')).toBe(0);
  });
});

describe('ConcurrencyLimiter crash safety on redis', () => {
  const client = new Redis(inject('redisUrl'), { maxRetriesPerRequest: 1 });
  afterAll(() => client.disconnect());

  it('50 holders SIGKILLed in a row: their slots come back, a new holder gets one within lease + 1 s', async () => {
    const prefix = `crash${process.pid}x${Math.random().toString(36).slice(2, 8)}`;
    const env = { SLUICE_REDIS_URL: inject('redisUrl') };
    const limit = 4;
    const leaseSeconds = 0.4;
    const kills = 50;
    // Each child waits up to lease + 1 s for a slot that only reclaim can free: a slot that never
    // came back would make it fail.
    const args = [prefix, 'q', String(limit), String(leaseSeconds), String(leaseSeconds + 1)];
    let started = 0;
    let lastKill = 0;
    const worker = async () => {
      while (started < kills) {
        started++;
        const holder: Fixture = startFixture('concurrency-holder.ts', args, env);
        try {
          const line = await holder.next(15_000);
          expect(line.id).toEqual(expect.any(String));
        } finally {
          await holder.signal('SIGKILL');
          lastKill = performance.now();
        }
      }
    };
    // One more child alive than there are slots: spawning overlaps waiting for reclaim.
    await Promise.all(Array.from({ length: limit + 1 }, worker));

    const limiter = new ConcurrencyLimiter(new RedisStore(client, { prefix, timeoutMs: 2000 }), {
      limit,
      leaseSeconds,
      retryIntervalSeconds: 0.1,
    });
    const lease = await limiter.acquire('q', { waitSeconds: leaseSeconds + 1 });
    const acquiredAt = performance.now();
    expect(lease).not.toBeNull();
    expect(acquiredAt - lastKill).toBeLessThan((leaseSeconds + 1) * 1000);
    await lease!.release();
    // Every killed holder's lease has expired by then, and the key outlives no lease.
    const settled = Math.max(lastKill, acquiredAt) + leaseSeconds * 1000 + 50;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, settled - performance.now())));
    expect(await limiter.inFlight('q')).toBe(0);
    expect(await client.exists(`${prefix}:c:{q}`)).toBe(0);
    // 50 tsx child processes start one after another: 10-27 s on a loaded 2-core machine.
  }, 90_000);
});
