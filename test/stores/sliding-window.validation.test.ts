import {
  CardinalityLimiter,
  InvalidConfiguration,
  MemoryStore,
  Quota,
  type QuotaOptions,
  type RequestedQuota,
  SlidingWindowRateLimiter,
  SluiceError,
} from '@sluice/core';
import { STORE_KINDS, useStore } from '@sluice/test-support/stores';
import { describe, expect, it } from 'vitest';

/** Runs `fn` and returns the InvalidConfiguration it threw. */
function invalid(fn: () => unknown): InvalidConfiguration {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidConfiguration);
    return error as InvalidConfiguration;
  }
  throw new Error('expected InvalidConfiguration, nothing was thrown');
}

const valid: QuotaOptions = { windowSeconds: 10, granularitySeconds: 1, limit: 10 };

describe('Quota construction', () => {
  it.each([
    ['windowSeconds', { windowSeconds: 10, granularitySeconds: 3 }, 10],
    ['windowSeconds', { windowSeconds: 0 }, 0],
    ['windowSeconds', { windowSeconds: -10 }, -10],
    ['windowSeconds', { windowSeconds: Number.NaN }, Number.NaN],
    ['windowSeconds', { windowSeconds: '10' }, '10'],
    ['granularitySeconds', { granularitySeconds: 0 }, 0],
    ['granularitySeconds', { granularitySeconds: -1 }, -1],
    ['granularitySeconds', { granularitySeconds: 0.0001 }, 0.0001],
    ['windowSeconds', { windowSeconds: 5, granularitySeconds: 10 }, 5],
    ['limit', { limit: -1 }, -1],
    ['limit', { limit: 1.5 }, 1.5],
    ['limit', { limit: Number.POSITIVE_INFINITY }, Number.POSITIVE_INFINITY],
    ['limit', { limit: undefined }, undefined],
    ['prefixOverride', { prefixOverride: 'glo{bal' }, 'glo{bal'],
    ['prefixOverride', { prefixOverride: 'global}' }, 'global}'],
    ['prefixOverride', { prefixOverride: '' }, ''],
  ] as const)('rejects %s in %j', (option, change, value) => {
    const error = invalid(() => new Quota({ ...valid, ...change } as unknown as QuotaOptions));
    expect(error).toBeInstanceOf(SluiceError);
    expect(error.code).toBe('SLUICE_INVALID_CONFIGURATION');
    expect(error.option).toBe(option);
    expect(error.value).toBe(value);
    expect(error.message).toContain(`\`${option}\``);
  });

  it('names the multiple it expected when the window is not one', () => {
    const error = invalid(() => new Quota({ windowSeconds: 10, granularitySeconds: 3, limit: 1 }));
    expect(error.message).toContain('a positive multiple of granularitySeconds (3)');
  });

  it('accepts whole windows of whole-millisecond granules, and is immutable', () => {
    const quota = new Quota({ windowSeconds: 3600, granularitySeconds: 60, limit: 0 });
    expect(quota).toMatchObject({ windowSeconds: 3600, granularitySeconds: 60, limit: 0 });
    expect(quota.granulesPerWindow).toBe(60);
    expect(
      new Quota({ windowSeconds: 0.3, granularitySeconds: 0.1, limit: 1 }).granulesPerWindow,
    ).toBe(3);
    expect(Object.isFrozen(quota)).toBe(true);
  });

  it('rejects a store that is not one', () => {
    expect(invalid(() => new SlidingWindowRateLimiter({} as never)).option).toBe('store');
    expect(invalid(() => new SlidingWindowRateLimiter(null as never)).option).toBe('store');
  });

  it('rejects options it does not have, rather than ignoring them (it and CardinalityLimiter take only a store)', () => {
    const store = new MemoryStore();
    const passed = (Limiter: new (store: MemoryStore, ...rest: never[]) => unknown) =>
      invalid(() => new Limiter(store, ...([{ prefix: 'mine' }] as never[])));
    for (const Limiter of [SlidingWindowRateLimiter, CardinalityLimiter]) {
      const error = passed(Limiter);
      expect(error.option).toBe('options');
      expect(error.message).toMatch(/takes only a store/);
    }
  });
});

describe.each(STORE_KINDS)('SlidingWindowRateLimiter rejects bad calls on %s', (kind) => {
  const harness = useStore(kind);
  const quotas = [new Quota(valid)];
  const ok: RequestedQuota = { prefix: 'p', requested: 1, quotas };

  const rejectsCall = async (requests: unknown, option: string, timestamp?: unknown) => {
    const store = harness.store();
    const limiter = new SlidingWindowRateLimiter(store);
    for (const call of [
      () => limiter.checkAndUseQuotas(requests as RequestedQuota[], timestamp as number),
      () => limiter.checkWithinQuotas(requests as RequestedQuota[], timestamp as number),
    ]) {
      const error = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(InvalidConfiguration);
      expect((error as InvalidConfiguration).option).toBe(option);
    }
    expect(await harness.keyCount(store)).toBe(0);
  };

  it.each([
    ['requested -1', [{ ...ok, requested: -1 }], 'requests[0].requested'],
    ['requested 1.5', [{ ...ok, requested: 1.5 }], 'requests[0].requested'],
    ['requested NaN', [ok, { ...ok, requested: Number.NaN }], 'requests[1].requested'],
    ['an empty quota list', [{ ...ok, quotas: [] }], 'requests[0].quotas'],
    ['no quota list', [{ prefix: 'p', requested: 1 }], 'requests[0].quotas'],
    ['{ in a prefix', [{ ...ok, prefix: 'org{1' }], 'requests[0].prefix'],
    ['} in a prefix', [{ ...ok, prefix: 'org}1' }], 'requests[0].prefix'],
    ['an empty prefix', [{ ...ok, prefix: '' }], 'requests[0].prefix'],
    ['a request that is not one', [null], 'requests[0]'],
    ['requests that are not an array', ok, 'requests'],
    [
      'a plain quota with a negative limit',
      [{ ...ok, quotas: [{ ...valid, limit: -5 }] }],
      'requests[0].quotas[0].limit',
    ],
    [
      'a plain quota whose window is not a multiple',
      [{ ...ok, quotas: [quotas[0], { ...valid, granularitySeconds: 4 }] }],
      'requests[0].quotas[1].windowSeconds',
    ],
  ])('rejects %s', async (_, requests, option) => {
    await rejectsCall(requests, option);
  });

  it('rejects a negative or non-numeric timestamp', async () => {
    await rejectsCall([ok], 'timestamp', -1);
    await rejectsCall([ok], 'timestamp', '100');
  });

  it('accepts a plain quota object and reports that very object as reached', async () => {
    const plain = { windowSeconds: 10, granularitySeconds: 1, limit: 0 } as unknown as Quota;
    const limiter = new SlidingWindowRateLimiter(harness.store());
    const [grant] = await limiter.checkAndUseQuotas([{ ...ok, quotas: [plain] }], 100);
    expect(grant!.reachedQuotas[0]).toBe(plain);
  });

  it('rejects useQuotas whose grants do not match the requests, counting nothing', async () => {
    const store = harness.store();
    const limiter = new SlidingWindowRateLimiter(store);
    const grant = { prefix: 'p', granted: 1, reachedQuotas: [] };
    const cases: Array<[unknown, unknown, string, unknown]> = [
      [[ok], [], 'grants', 100],
      [[ok], [grant, grant], 'grants', 100],
      [[ok], grant, 'grants', 100],
      [[ok], [{ ...grant, prefix: 'q' }], 'grants[0]', 100],
      [[ok], [{ ...grant, granted: 2 }], 'grants[0].granted', 100],
      [[ok], [{ ...grant, granted: -1 }], 'grants[0].granted', 100],
      [[ok], [{ ...grant, granted: 0.5 }], 'grants[0].granted', 100],
      [[{ ...ok, prefix: 'a{b' }], [grant], 'requests[0].prefix', 100],
      [[ok], [grant], 'timestamp', undefined],
      [[ok], [grant], 'timestamp', Number.NaN],
    ];
    for (const [requests, grants, option, timestamp] of cases) {
      const error = await limiter
        .useQuotas(requests as RequestedQuota[], grants as never, timestamp as number)
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error, option).toBeInstanceOf(InvalidConfiguration);
      expect((error as InvalidConfiguration).option).toBe(option);
    }
    expect(await harness.keyCount(store)).toBe(0);
  });
});
