import {
  InvalidConfiguration,
  organizationQuota,
  type Project,
  projectQuota,
  type QuotaConfig,
  Quotas,
  RateLimited,
} from '@sluice/core';
import { STORE_KINDS, useStore } from '@sluice/test-support/stores';
import { describe, expect, it } from 'vitest';

const project: Project = { id: 42, organizationId: 7 };
/** A timestamp whose 60 s window (org 7: shift 7) starts at T0 exactly. */
const T0 = 1_700_000_047;

describe.each(STORE_KINDS)('Quotas on %s', (kind) => {
  const harness = useStore(kind);
  const quotasOf = (
    quotas: QuotaConfig[] | ((p: Project) => QuotaConfig[]),
    graceSeconds?: number,
  ) =>
    new Quotas({
      store: harness.store(),
      getQuotas: typeof quotas === 'function' ? quotas : () => quotas,
      ...(graceSeconds === undefined ? {} : { graceSeconds }),
    });

  it('two quotas of limits 1 and 2: a refusal by the first consumes nothing of the second', async () => {
    const quotas = quotasOf([
      { id: 'a', limit: 1, windowSeconds: 60, reasonCode: 'a_quota' },
      { id: 'b', limit: 2, windowSeconds: 60, reasonCode: 'b_quota' },
    ]);
    const results = [];
    for (let i = 0; i < 3; i++)
      results.push(await quotas.isRateLimited(project, { timestamp: T0 }));
    expect(results.map((r) => [r.isLimited, r.reasonCode])).toEqual([
      [false, undefined],
      [true, 'a_quota'],
      [true, 'a_quota'],
    ]);
    expect(results[1]).toBeInstanceOf(RateLimited);
    const usage = await quotas.getUsage(project, { timestamp: T0 });
    expect(usage.map((u) => [u.quota.id, u.used])).toEqual([
      ['a', 1],
      ['b', 1],
    ]);
  });

  it('a refund of 5 lifts a limit of 1', async () => {
    const quotas = quotasOf([
      { id: 'p', scope: 'project', limit: 1, windowSeconds: 60, reasonCode: 'project_quota' },
    ]);
    expect((await quotas.isRateLimited(project, { timestamp: T0 })).isLimited).toBe(false);
    expect((await quotas.isRateLimited(project, { timestamp: T0 })).isLimited).toBe(true);
    await quotas.refund(project, { quantity: 5, timestamp: T0 });
    for (let i = 0; i < 5; i++) {
      expect((await quotas.isRateLimited(project, { timestamp: T0 })).isLimited).toBe(false);
    }
    expect((await quotas.isRateLimited(project, { timestamp: T0 })).isLimited).toBe(true);
  });

  it('10 calls against project 200/60 and org 300/60 give usage 10 and 10; one refund 9 and 9', async () => {
    const quotas = quotasOf((p) => [
      projectQuota(p, { limit: 200, windowSeconds: 60 }),
      organizationQuota(p, { limit: 300, windowSeconds: 60 }),
    ]);
    for (let i = 0; i < 10; i++) {
      expect((await quotas.isRateLimited(project, { timestamp: T0 + i })).isLimited).toBe(false);
    }
    const usage = async () =>
      (await quotas.getUsage(project, { timestamp: T0 + 10 })).map((u) => u.used);
    expect(await usage()).toEqual([10, 10]);
    await quotas.refund(project, { timestamp: T0 + 10 });
    expect(await usage()).toEqual([9, 9]);
  });

  it('refunds touch only the quotas of the refunded category', async () => {
    const quotas = quotasOf([
      { id: 'e', limit: 10, windowSeconds: 60, categories: ['error'], reasonCode: 'errors' },
      {
        id: 't',
        limit: 10,
        windowSeconds: 60,
        categories: ['transaction'],
        reasonCode: 'transactions',
      },
      { id: 'all', limit: 100, windowSeconds: 60, reasonCode: 'all' },
    ]);
    await quotas.isRateLimited(project, { category: 'error', quantity: 3, timestamp: T0 });
    await quotas.isRateLimited(project, { category: 'transaction', quantity: 4, timestamp: T0 });
    await quotas.refund(project, { category: 'transaction', quantity: 2, timestamp: T0 });
    const usage = await quotas.getUsage(project, { timestamp: T0 });
    expect(usage.map((u) => [u.quota.id, u.used])).toEqual([
      ['e', 3],
      ['t', 2],
      ['all', 5],
    ]);
  });

  it('a request without a category is checked only against quotas without categories', async () => {
    const quotas = quotasOf([
      { id: 'e', limit: 0, windowSeconds: 60, categories: ['error'], reasonCode: 'errors_off' },
      { id: 'all', limit: 1, windowSeconds: 60, reasonCode: 'all' },
    ]);
    expect((await quotas.isRateLimited(project, { timestamp: T0 })).isLimited).toBe(false);
    const second = await quotas.isRateLimited(project, { timestamp: T0 });
    expect(second.reasonCode).toBe('all');
    const error = await quotas.isRateLimited(project, { category: 'error', timestamp: T0 });
    expect(error.reasonCode).toBe('errors_off');
  });

  it('limit 0 rejects at once with retryAfter 60 and touches no key', async () => {
    const store = harness.store();
    const quotas = new Quotas({
      store,
      getQuotas: () => [
        { id: 'o', limit: 0, windowSeconds: 60, reasonCode: 'disabled' },
        { id: 'p', scope: 'project', limit: 10, windowSeconds: 60, reasonCode: 'project_quota' },
      ],
    });
    const result = await quotas.isRateLimited(project, { timestamp: T0 });
    expect(result).toMatchObject({ isLimited: true, retryAfter: 60, reasonCode: 'disabled' });
    expect(result.limits).toEqual([
      { retryAfter: 60, categories: [], scope: 'organization', reasonCode: 'disabled' },
    ]);
    expect(await harness.keyCount(store)).toBe(0);
    const usage = await quotas.getUsage(project, { timestamp: T0 });
    expect(usage.map((u) => u.used)).toEqual([null, 0]);
  });

  it('limit null never rejects but counts', async () => {
    const quotas = quotasOf([{ id: 'u', limit: null, windowSeconds: 60 }]);
    for (let i = 0; i < 50; i++) {
      expect(
        (await quotas.isRateLimited(project, { quantity: 100, timestamp: T0 })).isLimited,
      ).toBe(false);
    }
    expect((await quotas.getUsage(project, { timestamp: T0 }))[0]!.used).toBe(5000);
  });

  it('seed-style settings: a 0, null or missing setting means no limit', async () => {
    const quotas = quotasOf((p) => [
      projectQuota(p, { limit: 0, windowSeconds: 60 }),
      organizationQuota(p, { limit: null, windowSeconds: 60 }),
      { ...projectQuota(p, { windowSeconds: 60 }), id: 'p2' },
    ]);
    for (let i = 0; i < 20; i++) {
      expect((await quotas.isRateLimited(project, { timestamp: T0 })).isLimited).toBe(false);
    }
    expect((await quotas.getUsage(project, { timestamp: T0 })).map((u) => u.used)).toEqual([
      20, 20, 20,
    ]);
    expect(projectQuota(project, { limit: 0, windowSeconds: 60 })).toEqual({
      id: 'p',
      scope: 'project',
      scopeId: '42',
      limit: null,
      windowSeconds: 60,
      reasonCode: 'project_quota',
    });
  });

  it('quantity 0 checks without counting, limited once used reaches the limit', async () => {
    const quotas = quotasOf([
      { id: 'p', limit: 2, windowSeconds: 60, reasonCode: 'project_quota' },
    ]);
    expect((await quotas.isRateLimited(project, { quantity: 0, timestamp: T0 })).isLimited).toBe(
      false,
    );
    expect((await quotas.isRateLimited(project, { quantity: 2, timestamp: T0 })).isLimited).toBe(
      false,
    );
    expect((await quotas.isRateLimited(project, { quantity: 0, timestamp: T0 })).isLimited).toBe(
      true,
    );
    expect((await quotas.getUsage(project, { timestamp: T0 }))[0]!.used).toBe(2);
  });

  it('a quantity larger than what is left is refused and counts nothing', async () => {
    const quotas = quotasOf([
      { id: 'p', limit: 10, windowSeconds: 60, reasonCode: 'project_quota' },
    ]);
    expect((await quotas.isRateLimited(project, { quantity: 8, timestamp: T0 })).isLimited).toBe(
      false,
    );
    expect((await quotas.isRateLimited(project, { quantity: 3, timestamp: T0 })).isLimited).toBe(
      true,
    );
    expect((await quotas.isRateLimited(project, { quantity: 2, timestamp: T0 })).isLimited).toBe(
      false,
    );
    expect((await quotas.getUsage(project, { timestamp: T0 }))[0]!.used).toBe(10);
  });

  it('reports the worst-case retry and its reason, and every exceeded quota', async () => {
    const quotas = quotasOf([
      { id: 'm', limit: 1, windowSeconds: 60, reasonCode: 'minute', categories: ['error'] },
      { id: 'h', scope: 'project', limit: 1, windowSeconds: 3600, reasonCode: 'hour' },
      { id: 'd', limit: 100, windowSeconds: 86400, reasonCode: 'day' },
    ]);
    await quotas.isRateLimited(project, { category: 'error', timestamp: T0 });
    const result = await quotas.isRateLimited(project, { category: 'error', timestamp: T0 + 10 });
    expect(result.isLimited).toBe(true);
    expect(result.reasonCode).toBe('hour');
    // org 7: the hour window is shifted by 7 s, the minute window by 7 s too.
    const hourShift = 7;
    const hourNext = (Math.floor((T0 + 10 - hourShift) / 3600) + 1) * 3600 + hourShift;
    expect(result.retryAfter).toBeCloseTo(hourNext - (T0 + 10), 3);
    expect(result.limits).toEqual([
      { retryAfter: 50, categories: ['error'], scope: 'organization', reasonCode: 'minute' },
      {
        retryAfter: expect.closeTo(hourNext - (T0 + 10), 3),
        categories: [],
        scope: 'project',
        reasonCode: 'hour',
      },
    ]);
  });

  it('tells what is left of the tightest enforced quota', async () => {
    const quotas = quotasOf([
      { id: 'm', limit: 10, windowSeconds: 60, reasonCode: 'minute' },
      { id: 'h', limit: 12, windowSeconds: 3600, reasonCode: 'hour' },
      { id: 'u', limit: null, windowSeconds: 60 },
    ]);
    const first = await quotas.isRateLimited(project, { quantity: 4, timestamp: T0 });
    expect(first.tightest).toEqual({
      id: 'm',
      limit: 10,
      remaining: 6,
      windowSeconds: 60,
      resetAfter: 60,
      full: false,
    });
    await quotas.isRateLimited(project, { quantity: 5, timestamp: T0 });
    const third = await quotas.isRateLimited(project, { quantity: 2, timestamp: T0 });
    expect(third.isLimited).toBe(true);
    expect(third.tightest).toMatchObject({ limit: 10, remaining: 1, full: false });
    await quotas.isRateLimited(project, { quantity: 1, timestamp: T0 });
    const full = await quotas.isRateLimited(project, { quantity: 1, timestamp: T0 });
    expect(full.tightest).toMatchObject({ remaining: 0, full: true });
  });

  it('the first exceeded quota gives the reason on a tie', async () => {
    const quotas = quotasOf([
      { id: 'x', limit: 1, windowSeconds: 60, reasonCode: 'first' },
      { id: 'y', limit: 1, windowSeconds: 60, reasonCode: 'second' },
    ]);
    await quotas.isRateLimited(project, { timestamp: T0 });
    expect((await quotas.isRateLimited(project, { timestamp: T0 })).reasonCode).toBe('first');
  });

  it('windows are fixed, shifted per organization, and reset at the next window start', async () => {
    const quotas = quotasOf([
      { id: 'p', limit: 1, windowSeconds: 60, reasonCode: 'project_quota' },
    ]);
    expect((await quotas.isRateLimited(project, { timestamp: T0 + 59.9 })).isLimited).toBe(false);
    const limited = await quotas.isRateLimited(project, { timestamp: T0 + 59.9 });
    expect(limited.retryAfter).toBeCloseTo(0.1, 3);
    expect((await quotas.isRateLimited(project, { timestamp: T0 + 60 })).isLimited).toBe(false);
    // Organization 8 has shift 8: its window started one second later, at T0 + 1.
    const other: Project = { id: 1, organizationId: 8 };
    expect((await quotas.isRateLimited(other, { timestamp: T0 + 0.5 })).isLimited).toBe(false);
    expect((await quotas.isRateLimited(other, { timestamp: T0 + 0.5 })).retryAfter).toBeCloseTo(
      0.5,
      3,
    );
    // Non-numeric organization ids get a stable shift in [0, window).
    const named: Project = { id: 'web', organizationId: 'acme' };
    await quotas.isRateLimited(named, { timestamp: T0 });
    const retry = (await quotas.isRateLimited(named, { timestamp: T0 })).retryAfter!;
    expect(retry).toBeGreaterThan(0);
    expect(retry).toBeLessThanOrEqual(60);
  });

  it('counters expire at the next window start plus grace, relative to the decision timestamp', async () => {
    const store = harness.store();
    const quotas = new Quotas({
      store,
      graceSeconds: 30,
      getQuotas: () => [{ id: 'p', limit: 5, windowSeconds: 60, reasonCode: 'project_quota' }],
    });
    // A timestamp far in the past still gets a TTL of (next start + grace - timestamp).
    const past = 1_000_000_027; // org 7, window 60: the window starts at 1_000_000_027 - 20
    await quotas.isRateLimited(project, { timestamp: past });
    const slot = Math.floor((past - 7) / 60);
    const key = `${store.prefix}:q:{7}:p:o:7:60:${slot}`;
    const ttl = await harness.pttl(store, key, ((slot + 1) * 60 + 7) * 1000);
    const expected = ((slot + 1) * 60 + 7 + 30 - past) * 1000;
    expect(ttl).toBeGreaterThan(expected - 2000);
    expect(ttl).toBeLessThanOrEqual(expected + 1);
    expect(await harness.keyCount(store)).toBe(1);
  });

  it('key-scoped quotas count per key and apply only when a key is given', async () => {
    const quotas = quotasOf([
      { id: 'k', scope: 'key', limit: 1, windowSeconds: 60, reasonCode: 'key_quota' },
    ]);
    expect((await quotas.isRateLimited(project, { key: 'abc', timestamp: T0 })).isLimited).toBe(
      false,
    );
    expect((await quotas.isRateLimited(project, { key: 'abc', timestamp: T0 })).reasonCode).toBe(
      'key_quota',
    );
    expect((await quotas.isRateLimited(project, { key: 'def', timestamp: T0 })).isLimited).toBe(
      false,
    );
    expect((await quotas.isRateLimited(project, { timestamp: T0 })).isLimited).toBe(false);
  });

  it('a quota with a scopeId applies only to the matching project, compared as strings', async () => {
    const quotas = quotasOf([
      { id: 'p', scope: 'project', scopeId: '43', limit: 0, windowSeconds: 60, reasonCode: 'off' },
      {
        id: 'o',
        scope: 'organization',
        scopeId: '7',
        limit: 1,
        windowSeconds: 60,
        reasonCode: 'org_quota',
      },
    ]);
    expect((await quotas.isRateLimited(project, { timestamp: T0 })).isLimited).toBe(false);
    expect(
      (await quotas.isRateLimited({ id: '43', organizationId: 7 }, { timestamp: T0 })).reasonCode,
    ).toBe('off');
    expect(
      (await quotas.isRateLimited({ id: 44, organizationId: 7 }, { timestamp: T0 })).reasonCode,
    ).toBe('org_quota');
  });

  it('hostile ids work and stay apart', async () => {
    const store = harness.store();
    const quotas = new Quotas({
      store,
      getQuotas: () => [
        { id: 'p', scope: 'project', limit: 1, windowSeconds: 60, reasonCode: 'project_quota' },
      ],
    });
    const ids = [
      'p:1',
      'p:12',
      '{7}',
      '}{',
      'a}b{c',
      '%7b',
      '😀',
      '\u{d800}',
      'x'.repeat(10_240),
      '',
    ];
    const orgs = ['1:2', '12', '{x}', '😀'];
    for (const org of orgs) {
      for (const id of ids) {
        const result = await quotas.isRateLimited({ id, organizationId: org }, { timestamp: T0 });
        expect(result.isLimited, `first call of ${org}/${id.slice(0, 12)}`).toBe(false);
      }
    }
    for (const org of orgs) {
      for (const id of ids) {
        const result = await quotas.isRateLimited({ id, organizationId: org }, { timestamp: T0 });
        expect(result.isLimited, `second call of ${org}/${id.slice(0, 12)}`).toBe(true);
      }
    }
    expect(await harness.keyCount(store)).toBe(ids.length * orgs.length);
  });

  it('rejects invalid per-call configuration with the typed error naming the option', async () => {
    const cases: Array<[Partial<QuotaConfig>, string]> = [
      [{ limit: Number.NaN }, 'getQuotas()[0].limit'],
      [{ limit: -1 }, 'getQuotas()[0].limit'],
      [{ limit: Number.POSITIVE_INFINITY }, 'getQuotas()[0].limit'],
      [{ limit: 1.5 }, 'getQuotas()[0].limit'],
      [{ windowSeconds: 0 }, 'getQuotas()[0].windowSeconds'],
      [{ windowSeconds: Number.NaN }, 'getQuotas()[0].windowSeconds'],
      [{ reasonCode: undefined }, 'getQuotas()[0].reasonCode'],
      [{ id: '' }, 'getQuotas()[0].id'],
      [{ scope: 'team' as never }, 'getQuotas()[0].scope'],
      [{ categories: 'error' as never }, 'getQuotas()[0].categories'],
    ];
    for (const [patch, option] of cases) {
      const quotas = quotasOf([
        { id: 'p', limit: 10, windowSeconds: 60, reasonCode: 'project_quota', ...patch },
      ]);
      const error = await quotas.isRateLimited(project).catch((e: unknown) => e);
      expect(error, option).toBeInstanceOf(InvalidConfiguration);
      expect(error).toMatchObject({ code: 'SLUICE_INVALID_CONFIGURATION', option });
      expect((error as Error).message).toContain(option);
    }
    const quotas = quotasOf([]);
    await expect(quotas.isRateLimited(project, { quantity: -1 })).rejects.toMatchObject({
      option: 'quantity',
    });
    await expect(quotas.isRateLimited(project, { quantity: Number.NaN })).rejects.toBeInstanceOf(
      InvalidConfiguration,
    );
    await expect(
      quotas.isRateLimited(project, { timestamp: Number.POSITIVE_INFINITY }),
    ).rejects.toMatchObject({
      option: 'timestamp',
    });
  });

  it('throws the typed error at construction', () => {
    const store = harness.store();
    expect(() => new Quotas({ store, getQuotas: () => [], graceSeconds: -1 })).toThrow(
      InvalidConfiguration,
    );
    expect(() => new Quotas({ store, getQuotas: 'no' as never })).toThrow(/getQuotas/);
    expect(() => new Quotas({ store: {} as never, getQuotas: () => [] })).toThrow(/store/);
  });
});
