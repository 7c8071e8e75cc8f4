import { InvalidConfiguration, MemoryStore, type Project, Quotas } from '@sluice/core';
import { describe, expect, it } from 'vitest';

const perProject = (store: MemoryStore) =>
  new Quotas({
    store,
    getQuotas: () => [
      { id: 'p', scope: 'project', limit: 1, windowSeconds: 60, reasonCode: 'project_quota' },
    ],
  });

describe('MemoryStore', () => {
  it('stays within maxKeys and counts the live keys it evicts', async () => {
    const store = new MemoryStore({ maxKeys: 10 });
    const quotas = perProject(store);
    for (let id = 0; id < 100; id++) await quotas.isRateLimited({ id, organizationId: 1 });
    expect(store.size).toBe(10);
    expect(store.evicted).toBe(90);
  });

  it('evicts the least recently written key first', async () => {
    const store = new MemoryStore({ maxKeys: 2 });
    const quotas = new Quotas({
      store,
      getQuotas: () => [
        { id: 'p', scope: 'project', limit: 5, windowSeconds: 60, reasonCode: 'project_quota' },
      ],
    });
    const a: Project = { id: 'a', organizationId: 1 };
    const b: Project = { id: 'b', organizationId: 1 };
    await quotas.isRateLimited(a);
    await quotas.isRateLimited(b);
    await quotas.isRateLimited(a); // a is now the most recent
    await quotas.isRateLimited({ id: 'c', organizationId: 1 }); // evicts b
    const used = async (p: Project) => (await quotas.getUsage(p))[0]!.used;
    expect(await used(a)).toBe(2);
    expect(await used(b)).toBe(0);
  });

  it('uses its clock when no timestamp is given and drops expired windows', async () => {
    let now = 1_700_000_000_000;
    const store = new MemoryStore({ clock: () => now });
    const quotas = new Quotas({
      store,
      graceSeconds: 0,
      getQuotas: () => [
        { id: 'p', scope: 'project', limit: 1, windowSeconds: 10, reasonCode: 'project_quota' },
      ],
    });
    for (let id = 0; id < 5; id++) await quotas.isRateLimited({ id, organizationId: 0 });
    expect(store.size).toBe(5);
    expect((await quotas.isRateLimited({ id: 0, organizationId: 0 })).isLimited).toBe(true);
    now += 11_000;
    expect((await quotas.isRateLimited({ id: 0, organizationId: 0 })).isLimited).toBe(false);
    // A new window drops the expired ones: the old counters go away.
    for (let id = 100; id < 105; id++) await quotas.isRateLimited({ id, organizationId: 0 });
    expect(store.size).toBe(6);
  });

  it('rejects invalid options with the typed error', () => {
    expect(() => new MemoryStore({ maxKeys: 0 })).toThrow(InvalidConfiguration);
    expect(() => new MemoryStore({ maxKeys: 1.5 })).toThrow(/maxKeys/);
    expect(() => new MemoryStore({ clock: 5 as never })).toThrow(/clock/);
  });
});
