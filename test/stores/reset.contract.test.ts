import {
  ConcurrencyLimiter,
  InvalidConfiguration,
  type Project,
  Quota,
  type QuotaConfig,
  Quotas,
  SlidingWindowRateLimiter,
} from '@sluice/core';
import { STORE_KINDS, useStore } from '@sluice/test-support/stores';
import { describe, expect, it } from 'vitest';

// The operators' controls on every store: reset a project's or a key's counters, and nothing
// else's. The CLI (test/e2e/cli.test.ts) does the same from outside the app.

const project: Project = { id: 42, organizationId: 7 };
const other: Project = { id: 43, organizationId: 7 };
const T0 = 1_700_000_047;
const configs: QuotaConfig[] = [
  { id: 'p', scope: 'project', limit: 3, windowSeconds: 60, reasonCode: 'project_quota' },
  { id: 'k', scope: 'key', limit: 2, windowSeconds: 60, reasonCode: 'key_quota' },
  { id: 'o', limit: 100, windowSeconds: 60, reasonCode: 'org_quota' },
];

describe.each(STORE_KINDS)('reset on %s', (kind) => {
  const harness = useStore(kind);

  it("Quotas.reset clears the project's own counters, says what they held, and leaves the organization's and other projects' alone", async () => {
    const quotas = new Quotas({ store: harness.store(), getQuotas: () => configs });
    const admitted = async (p: Project, key?: string) =>
      !(await quotas.isRateLimited(p, { key, timestamp: T0 })).isLimited;
    for (let i = 0; i < 3; i++) expect(await admitted(project)).toBe(true);
    expect(await admitted(project)).toBe(false);
    expect(await admitted(other)).toBe(true);

    const cleared = await quotas.reset(project, { timestamp: T0 });
    expect(cleared.map((c) => [c.quota.id, c.removed])).toEqual([['p', 3]]);
    for (let i = 0; i < 3; i++) expect(await admitted(project)).toBe(true);
    expect(await admitted(project)).toBe(false);
    const usage = async (p: Project) =>
      (await quotas.getUsage(p, { timestamp: T0 })).map((u) => [u.quota.id, u.used]);
    expect(await usage(project)).toEqual([
      ['p', 3],
      ['o', 7],
    ]);
    expect(await usage(other)).toEqual([
      ['p', 1],
      ['o', 7],
    ]);
    // A second reset finds the counters the first one left at zero, then refilled.
    expect((await quotas.reset(project, { timestamp: T0 }))[0]!.removed).toBe(3);
    expect((await quotas.reset(project, { timestamp: T0 }))[0]!.removed).toBe(0);
  });

  it('Quotas.reset with a key clears only that key', async () => {
    const quotas = new Quotas({ store: harness.store(), getQuotas: () => configs });
    const admitted = async (key: string) =>
      !(await quotas.isRateLimited(project, { key, timestamp: T0 })).isLimited;
    expect(await admitted('a')).toBe(true);
    expect(await admitted('a')).toBe(true);
    expect(await admitted('a')).toBe(false);
    expect(await admitted('b')).toBe(true);
    const cleared = await quotas.reset(project, { key: 'a', timestamp: T0 });
    expect(cleared.map((c) => [c.quota.id, c.removed])).toEqual([['k', 2]]);
    const usage = await quotas.getUsage(project, { key: 'b', timestamp: T0 });
    expect(usage.map((u) => [u.quota.id, u.used])).toEqual([
      ['p', 3],
      ['k', 1],
      ['o', 3],
    ]);
    expect(await admitted('a')).toBe(false); // the project quota (3) is full now
    await quotas.reset(project, { timestamp: T0 });
    expect(await admitted('a')).toBe(true);
  });

  it('Quotas.reset after a refund clears used - refunded, and rejects a bad project', async () => {
    const quotas = new Quotas({ store: harness.store(), getQuotas: () => configs });
    for (let i = 0; i < 3; i++) await quotas.isRateLimited(project, { timestamp: T0 });
    await quotas.refund(project, { quantity: 1, timestamp: T0 });
    expect((await quotas.reset(project, { timestamp: T0 }))[0]!.removed).toBe(2);
    await expect(quotas.reset(null as never)).rejects.toThrow(InvalidConfiguration);
  });

  it('SlidingWindowRateLimiter.reset clears the windows of one prefix only', async () => {
    const limiter = new SlidingWindowRateLimiter(harness.store());
    const quotas = [
      new Quota({ windowSeconds: 10, granularitySeconds: 1, limit: 5 }),
      new Quota({ windowSeconds: 60, granularitySeconds: 10, limit: 8 }),
    ];
    const grant = async (prefix: string) =>
      (await limiter.checkAndUseQuotas([{ prefix, requested: 5, quotas }], T0))[0]!.granted;
    expect(await grant('a')).toBe(5);
    expect(await grant('a')).toBe(0);
    expect(await grant('b')).toBe(5);
    expect(await limiter.reset('a', quotas)).toBe(2);
    expect(await limiter.reset('a', quotas)).toBe(0);
    expect(await grant('a')).toBe(5);
    expect(await grant('b')).toBe(0);
    await expect(limiter.reset('a', [])).rejects.toThrow(InvalidConfiguration);
    await expect(limiter.reset('{a}', quotas)).rejects.toThrow(InvalidConfiguration);
  });

  it('ConcurrencyLimiter.reset frees every slot of a key', async () => {
    const limiter = new ConcurrencyLimiter(harness.store(), { limit: 1, leaseSeconds: 60 });
    const held = await limiter.acquire('job');
    expect(await limiter.acquire('job')).toBeNull();
    await limiter.reset('job');
    expect(await limiter.acquire('job')).not.toBeNull();
    expect(await held!.extend()).toBe(false);
  });
});
