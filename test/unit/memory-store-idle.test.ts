import { setTimeout as sleep } from 'node:timers/promises';
import { ConcurrencyLimiter, MemoryStore, Quota, SlidingWindowRateLimiter } from '@sluice/core';
import { describe, expect, it } from 'vitest';

// Issue 10's reproductions: a key that expired inside the store and is then read and written
// again must behave exactly like a fresh key. Both once over-granted: the store kept the last
// entry it read, and once that entry expired and was dropped, the next write of its key went
// to the dropped object instead of the map (so a refused call before the idle gap sets it up).

const twoPerSecond = () => [
  {
    prefix: 'p',
    requested: 1,
    quotas: [new Quota({ windowSeconds: 1, granularitySeconds: 1, limit: 2 })],
  },
];

async function grantsAfterIdle(store: MemoryStore, idle: () => Promise<void>): Promise<number[]> {
  const limiter = new SlidingWindowRateLimiter(store);
  const granted = async () => (await limiter.checkAndUseQuotas(twoPerSecond()))[0]!.granted;
  const before = [await granted(), await granted(), await granted()];
  expect(before).toEqual([1, 1, 0]);
  await idle();
  const after: number[] = [];
  for (let i = 0; i < 5; i++) after.push(await granted());
  return after;
}

describe('MemoryStore after an idle period', () => {
  it('a sliding window grants exactly its limit again (injected clock)', async () => {
    let now = 1_700_000_000_000;
    const store = new MemoryStore({ clock: () => now });
    const after = await grantsAfterIdle(store, async () => {
      now += 2_100;
    });
    expect(after).toEqual([1, 1, 0, 0, 0]);
  });

  it('a sliding window grants exactly its limit again (real time)', async () => {
    const store = new MemoryStore();
    // Start just after a second boundary so the 5 calls after the wait share one granule.
    await sleep(1000 - (Date.now() % 1000) + 20);
    const after = await grantsAfterIdle(store, () => sleep(2_100));
    expect(after.reduce((a, b) => a + b)).toBe(2);
    expect(after).toEqual([1, 1, 0, 0, 0]);
  });

  it('a concurrency limit of 1 admits one of two acquires after the lease passed', async () => {
    let now = 1_700_000_000_000;
    const store = new MemoryStore({ clock: () => now });
    const limiter = new ConcurrencyLimiter(store, { limit: 1, leaseSeconds: 1 });
    expect(await limiter.acquire('job')).not.toBeNull();
    expect(await limiter.inFlight('job')).toBe(1);
    now += 1_100;
    expect(await limiter.inFlight('job')).toBe(0);
    const leases = await Promise.all([limiter.acquire('job'), limiter.acquire('job')]);
    expect(leases.filter((lease) => lease !== null)).toHaveLength(1);
    expect(await limiter.inFlight('job')).toBe(1);
  });

  it('a concurrency limit of 1 admits one of two acquires after the lease passed (real time)', async () => {
    const store = new MemoryStore();
    const limiter = new ConcurrencyLimiter(store, {
      limit: 1,
      leaseSeconds: 0.2,
      retryIntervalSeconds: 0.1,
    });
    expect(await limiter.acquire('job')).not.toBeNull();
    expect(await limiter.acquire('job')).toBeNull();
    await sleep(300);
    expect(await limiter.inFlight('job')).toBe(0);
    const first = await limiter.acquire('job');
    const second = await limiter.acquire('job');
    expect([first, second].filter((lease) => lease !== null)).toHaveLength(1);
  });
});
