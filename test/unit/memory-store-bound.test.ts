import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  MemoryStore,
  type Project,
  Quota,
  type QuotaConfig,
  Quotas,
  SlidingWindowRateLimiter,
} from '@sluice/core';
import { describe, expect, it } from 'vitest';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const T0 = 1_700_000_000_000;
const perProject = (store: MemoryStore, quota: Omit<QuotaConfig, 'scope' | 'reasonCode'>) =>
  new Quotas({
    store,
    graceSeconds: 0,
    getQuotas: () => [{ ...quota, scope: 'project', reasonCode: 'project_quota' }],
  });

describe('MemoryStore bound', () => {
  it('loses no live counter while expired keys remain, and counts each eviction', async () => {
    let now = T0;
    const store = new MemoryStore({ maxKeys: 1000, clock: () => now });
    const daily = perProject(store, { id: 'd', limit: 5, windowSeconds: 86_400 });
    const perSecond = perProject(store, { id: 's', limit: 100, windowSeconds: 1 });
    const windows = new SlidingWindowRateLimiter(store);
    const short = [new Quota({ windowSeconds: 1, granularitySeconds: 1, limit: 10 })];

    // Two long-lived counters first, each at its daily limit.
    const longLived: Project[] = [
      { id: 'first', organizationId: 1 },
      { id: 'second', organizationId: 1 },
    ];
    for (const project of longLived) {
      for (let i = 0; i < 5; i++)
        expect((await daily.isRateLimited(project)).isLimited).toBe(false);
    }

    // 40 rounds of short-lived keys: 500 fixed-window counters and 200 sliding windows a
    // round, each gone 1.5 s later. At most ~700 keys are ever live; 28,000 are written.
    let next = 0;
    for (let round = 0; round < 40; round++) {
      for (let i = 0; i < 500; i++) {
        await perSecond.isRateLimited({ id: `short${next++}`, organizationId: 1 });
      }
      for (let i = 0; i < 200; i++) {
        await windows.checkAndUseQuotas([{ prefix: `w${next++}`, requested: 1, quotas: short }]);
      }
      expect(store.size).toBeLessThanOrEqual(1000);
      now += 1_500;
    }

    expect(store.evicted).toBe(0);
    for (const project of longLived) {
      const result = await daily.isRateLimited(project);
      expect(result.isLimited, `${project.id} kept its counter`).toBe(true);
      expect((await daily.getUsage(project))[0]!.used).toBe(5);
    }

    // Now more live keys than the bound: live counters go, each one counted.
    for (let i = 0; i < 1200; i++) await daily.isRateLimited({ id: `live${i}`, organizationId: 1 });
    expect(store.size).toBeLessThanOrEqual(1000);
    expect(store.evicted).toBeGreaterThanOrEqual(1200 + 2 - 1000);
  });

  it('evicts the counter that expires soonest before a longer-lived one', async () => {
    const store = new MemoryStore({ maxKeys: 3, clock: () => T0 });
    const daily = perProject(store, { id: 'd', limit: 5, windowSeconds: 86_400 });
    const minute = perProject(store, { id: 'm', limit: 5, windowSeconds: 60 });
    await daily.isRateLimited({ id: 'a', organizationId: 1 });
    await daily.isRateLimited({ id: 'b', organizationId: 1 });
    await minute.isRateLimited({ id: 'c', organizationId: 1 });
    await minute.isRateLimited({ id: 'd', organizationId: 1 });
    expect(store.evicted).toBe(1);
    expect((await minute.getUsage({ id: 'c', organizationId: 1 }))[0]!.used).toBe(0);
    expect((await daily.getUsage({ id: 'a', organizationId: 1 }))[0]!.used).toBe(1);
    expect((await daily.getUsage({ id: 'b', organizationId: 1 }))[0]!.used).toBe(1);
  });
});

describe('MemoryStore expiry with no traffic', () => {
  it('returns to its baseline heap within seconds of expiry, on its own clock', async () => {
    let now = T0;
    const store = new MemoryStore({ clock: () => now });
    const quotas = new Quotas({
      store,
      graceSeconds: 1,
      getQuotas: (project) => [
        { id: 'p', scope: 'project', limit: 100, windowSeconds: 5, reasonCode: 'project_quota' },
        {
          id: 'o',
          scope: 'organization',
          limit: 100,
          windowSeconds: 5,
          reasonCode: 'org_quota',
          scopeId: String(project.organizationId),
        },
      ],
    });
    const windows = new SlidingWindowRateLimiter(store);
    const short = [new Quota({ windowSeconds: 5, granularitySeconds: 1, limit: 10 })];

    gc();
    const baseline = process.memoryUsage().heapUsed;
    for (let i = 0; i < 50_000; i++) await quotas.isRateLimited({ id: i, organizationId: i });
    for (let i = 0; i < 10_000; i++) {
      await windows.checkAndUseQuotas([{ prefix: `w${i}`, requested: 1, quotas: short }]);
    }
    expect(store.size).toBe(110_000);
    gc();
    const held = process.memoryUsage().heapUsed - baseline;
    expect(held).toBeGreaterThan(2_000_000);

    // No traffic: only the store's clock moves, past every window plus grace.
    now += 15_000;
    const deadline = Date.now() + 5_000;
    while (store.size > 0 && Date.now() < deadline) await sleep(100);
    expect(store.size).toBe(0);
    gc();
    expect(process.memoryUsage().heapUsed - baseline).toBeLessThan(held / 4);
  });
});
