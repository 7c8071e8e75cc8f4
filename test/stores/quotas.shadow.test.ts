import {
  InvalidConfiguration,
  type Project,
  type QuotaConfig,
  Quotas,
  RejectionCache,
} from '@sluice/core';
import { STORE_KINDS, useStore } from '@sluice/test-support/stores';
import { describe, expect, it } from 'vitest';

// A quota in shadow (issue 14 §3): decided and counted with the enforced ones in the same store
// step, never refusing and never remembered as full; `shadowLimits` says what it would have
// refused. On every store.

const project: Project = { id: 42, organizationId: 7 };
const T0 = 1_700_000_047;
const enforced: QuotaConfig = {
  id: 'p',
  scope: 'project',
  limit: 10,
  windowSeconds: 60,
  reasonCode: 'project_quota',
};
const watched: QuotaConfig = {
  id: 'new',
  scope: 'project',
  limit: 3,
  windowSeconds: 60,
  reasonCode: 'new_rule',
  shadow: true,
};

describe.each(STORE_KINDS)('shadow quotas on %s', (kind) => {
  const harness = useStore(kind);
  const quotasOf = (configs: QuotaConfig[], rejectionCache?: RejectionCache) =>
    new Quotas({
      store: harness.store(),
      getQuotas: () => configs,
      ...(rejectionCache === undefined ? {} : { rejectionCache }),
    });

  it('never refuses, is counted with the enforced quotas, and reports what it would have refused', async () => {
    const quotas = quotasOf([enforced, watched]);
    const results = [];
    for (let i = 0; i < 11; i++)
      results.push(await quotas.isRateLimited(project, { timestamp: T0 }));
    expect(results.map((r) => r.isLimited)).toEqual([...Array(10).fill(false), true]);
    expect(results.map((r) => r.shadowLimits?.map((l) => l.reasonCode) ?? [])).toEqual([
      [],
      [],
      [],
      ...Array(8).fill(['new_rule']),
    ]);
    // The enforced refusal names only the enforced quota; the shadow one is not a policy.
    expect(results[10]!.reasonCode).toBe('project_quota');
    expect(results[10]!.limits!.map((l) => l.reasonCode)).toEqual(['project_quota']);
    expect(results[9]!.quotas!.map((q) => q.id)).toEqual(['p']);
    // Counted like the enforced one: 10 admitted, the refusal counted nothing.
    expect(
      (await quotas.getUsage(project, { timestamp: T0 })).map((u) => [u.quota.id, u.used]),
    ).toEqual([
      ['p', 10],
      ['new', 10],
    ]);
  });

  it('a shadow reject-all quota (limit 0) is reported, never refuses, never counts', async () => {
    const quotas = quotasOf([enforced, { ...watched, limit: 0, windowSeconds: 0 }]);
    const result = await quotas.isRateLimited(project, { timestamp: T0 });
    expect(result.isLimited).toBe(false);
    expect(result.shadowLimits).toEqual([
      expect.objectContaining({ retryAfter: 60, reasonCode: 'new_rule' }),
    ]);
    expect(
      (await quotasOf([{ ...watched, limit: 0, windowSeconds: 0 }]).isRateLimited(project))
        .isLimited,
    ).toBe(false);
  });

  it('is never remembered as full, even sharing a counter and limit with an enforced quota', async () => {
    const cache = new RejectionCache();
    const full: QuotaConfig = { ...enforced, limit: 2 };
    const quotas = quotasOf([full], cache);
    for (let i = 0; i < 3; i++) await quotas.isRateLimited(project);
    expect(cache.size).toBeGreaterThan(0);
    // Same counter (id p, project scope, 60 s) and limit, in shadow: admitted despite the cache.
    const shadowed = new Quotas({
      store: quotas.store,
      getQuotas: () => [{ ...full, shadow: true }],
      rejectionCache: cache,
    });
    const result = await shadowed.isRateLimited(project);
    expect(result.isLimited).toBe(false);
    expect(result.shadowLimits?.map((l) => l.reasonCode)).toEqual(['project_quota']);
  });

  it('shadow must be a boolean', async () => {
    const error = await quotasOf([{ ...watched, shadow: 'yes' as never }])
      .isRateLimited(project)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidConfiguration);
    expect((error as InvalidConfiguration).option).toBe('getQuotas()[0].shadow');
  });
});
