import {
  ConcurrencyLimiter,
  type ConcurrencyLimiterOptions,
  InvalidConfiguration,
  MemoryStore,
  type MemoryStoreOptions,
  type Project,
  Quota,
  type QuotaConfig,
  Quotas,
  type QuotasOptions,
  SlidingWindowRateLimiter,
  type Store,
} from '@sluice/core';
import { HttpLimiter } from '@sluice/core/adapter';
import { RedisStore, type RedisStoreOptions } from '@sluice/core/redis';
import { useStore } from '@sluice/test-support/stores';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';

/**
 * Every bound of issue 10, section 1: each bad value is an InvalidConfiguration naming the
 * option, thrown at construction or rejecting only its own call before it joins a batch.
 */

/** The InvalidConfiguration `fn` throws (synchronously or by rejecting). */
async function invalid(fn: () => unknown): Promise<InvalidConfiguration> {
  try {
    await fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidConfiguration);
    return error as InvalidConfiguration;
  }
  throw new Error('expected InvalidConfiguration, nothing was thrown');
}

/** Expects `fn` to throw an InvalidConfiguration naming `option` and, when given, the value. */
async function expectInvalid(
  fn: () => unknown,
  option: string,
  ...value: [unknown?]
): Promise<void> {
  const error = await invalid(fn);
  expect(error.option).toBe(option);
  expect(error.code).toBe('SLUICE_INVALID_CONFIGURATION');
  expect(error.message).toContain(`\`${option}\``);
  if (value.length > 0) expect(error.value).toEqual(value[0]);
}

const quota = (windowSeconds: number, limit = 2): QuotaConfig => ({
  id: 'p',
  scope: 'project',
  limit,
  windowSeconds,
  reasonCode: 'project_quota',
});
const project: Project = { id: 1, organizationId: 7 };
/** Three hours ahead of now, in seconds: tests run the clock anywhere. */
const LATER = Date.now() / 1000 + 3 * 3600;

describe('store constructors', () => {
  const client = new Redis(inject('redisUrl'), { maxRetriesPerRequest: 1, lazyConnect: true });
  afterAll(() => client.disconnect());
  const redis = (options: unknown) => new RedisStore(client, options as RedisStoreOptions);
  const memory = (options: unknown) => new MemoryStore(options as MemoryStoreOptions);

  it('new MemoryStore(null) is an InvalidConfiguration, not a TypeError', async () => {
    await expectInvalid(() => memory(null), 'options', null);
    await expectInvalid(() => memory(5), 'options', 5);
    await expectInvalid(() => redis(null), 'options', null);
  });

  it.each([
    ['', 'empty'],
    ['a{b', 'an opening brace'],
    ['a}b', 'a closing brace'],
    ['{a}', 'a hash tag'],
    [5, 'a number'],
  ])('prefix %j (%s) is invalid on both stores', async (prefix, _why) => {
    await expectInvalid(() => memory({ prefix }), 'prefix', prefix);
    await expectInvalid(() => redis({ prefix }), 'prefix', prefix);
  });

  it('a prefix with colons is fine, and both stores default to sluice', () => {
    expect(memory({ prefix: 'app:limits' }).prefix).toBe('app:limits');
    expect(redis({ prefix: 'app:limits' }).prefix).toBe('app:limits');
    expect(memory(undefined).prefix).toBe('sluice');
    expect(redis(undefined).prefix).toBe('sluice');
  });

  it('timeoutMs is at most 2^31 - 1, the longest timer Node honours', async () => {
    await expectInvalid(() => redis({ timeoutMs: 1e10 }), 'timeoutMs', 1e10);
    await expectInvalid(() => redis({ timeoutMs: 2 ** 31 }), 'timeoutMs', 2 ** 31);
    await expectInvalid(() => redis({ timeoutMs: Number.POSITIVE_INFINITY }), 'timeoutMs');
    await expectInvalid(() => redis({ timeoutMs: 0 }), 'timeoutMs', 0);
    expect(redis({ timeoutMs: 2 ** 31 - 1 }).timeoutMs).toBe(2 ** 31 - 1);
  });

  it('an unknown option is named, never ignored', async () => {
    await expectInvalid(() => memory({ maxkeys: 10 }), 'maxkeys', 10);
    await expectInvalid(() => redis({ timeout: 10 }), 'timeout', 10);
    // An option set to undefined is an absent option.
    expect(memory({ maxKeys: undefined }).maxKeys).toBe(1_000_000);
  });
});

describe('engine constructors', () => {
  const store = new MemoryStore();
  const getQuotas = () => [quota(60)];

  it.each([
    ['a plain object', {}],
    ['null', null],
    ['a string', 'redis'],
  ])('every engine names `store` when it is %s', async (_, bad) => {
    const notAStore = bad as unknown as Store;
    await expectInvalid(() => new Quotas({ store: notAStore, getQuotas }), 'store');
    await expectInvalid(() => new SlidingWindowRateLimiter(notAStore), 'store');
    await expectInvalid(() => new ConcurrencyLimiter(notAStore, { limit: 1 }), 'store');
    await expectInvalid(() => new HttpLimiter({ store: notAStore, identify: () => null }), 'store');
  });

  it('graceSeconds is from 0 to 1e9', async () => {
    const make = (graceSeconds: unknown) =>
      new Quotas({ store, getQuotas, graceSeconds } as QuotasOptions);
    await expectInvalid(() => make(1e14), 'graceSeconds', 1e14);
    await expectInvalid(() => make(-1), 'graceSeconds', -1);
    await expectInvalid(() => make(Number.NaN), 'graceSeconds');
    await expectInvalid(
      () => new HttpLimiter({ identify: () => null, graceSeconds: 1e14 }),
      'graceSeconds',
      1e14,
    );
    expect(make(0).graceSeconds).toBe(0);
    expect(make(1e9).graceSeconds).toBe(1e9);
  });

  it('Quotas names a misspelled option', async () => {
    await expectInvalid(
      () => new Quotas({ store, getQuotas, grace: 5 } as unknown as QuotasOptions),
      'grace',
    );
  });

  it('leaseSeconds is at most 1e9, on the limiter and through the HTTP layer', async () => {
    const make = (options: unknown) =>
      new ConcurrencyLimiter(store, options as ConcurrencyLimiterOptions);
    await expectInvalid(() => make({ limit: 1, leaseSeconds: 1e16 }), 'leaseSeconds', 1e16);
    await expectInvalid(
      () =>
        new HttpLimiter({ identify: () => null, concurrency: { limit: 1, leaseSeconds: 1e16 } }),
      'concurrency.leaseSeconds',
      1e16,
    );
    expect(make({ limit: 1, leaseSeconds: 1e9 }).leaseSeconds).toBe(1e9);
    await expectInvalid(() => make({ limit: 1, lease: 5 }), 'lease', 5);
  });

  it('retryIntervalSeconds is at most what a Node timer can wait', async () => {
    await expectInvalid(
      () =>
        new ConcurrencyLimiter(store, { limit: 1, leaseSeconds: 1e9, retryIntervalSeconds: 1e7 }),
      'retryIntervalSeconds',
      1e7,
    );
  });

  it('a lease of 1e7 s with autoExtend is not extended every millisecond', async () => {
    const memory = new MemoryStore();
    const names: string[] = [];
    const counting: Store = {
      prefix: memory.prefix,
      clustered: false,
      run: (operation, args, timestampMs) => {
        names.push(operation.name);
        return memory.run(operation, args, timestampMs);
      },
    };
    const limiter = new ConcurrencyLimiter(counting, { limit: 1, leaseSeconds: 1e7 });
    const result = await limiter.run('job', () => new Promise((r) => setTimeout(r, 100)), {
      autoExtend: true,
    });
    expect(result.acquired).toBe(true);
    expect(names.filter((name) => name.endsWith('extend'))).toEqual([]);
  });

  it('a sliding window is at most 1e9 s', async () => {
    await expectInvalid(
      () => new Quota({ windowSeconds: 1e15, granularitySeconds: 1, limit: 2 }),
      'windowSeconds',
      1e15,
    );
    await expectInvalid(
      () => new Quota({ windowSeconds: 2e9, granularitySeconds: 2e9, limit: 2 }),
      'granularitySeconds',
      2e9,
    );
    expect(new Quota({ windowSeconds: 1e9, granularitySeconds: 1e6, limit: 2 }).windowSeconds).toBe(
      1e9,
    );
  });
});

describe.each(['memory', 'redis'] as const)('calls on %s', (kind) => {
  const harness = useStore(kind);
  /**
   * getQuotas reads the window of the call's quota from its `key` (the quota is project-scoped,
   * so the key counts nothing), so one call can carry a bad quota.
   */
  const quotasOn = (store: Store) =>
    new Quotas({
      store,
      getQuotas: (_project, ctx) => [quota(ctx.key === undefined ? 60 : Number(ctx.key))],
    });

  it.each([
    [1e11, 'the bound itself'],
    [1e13, 'microseconds that overflow'],
    [1e18, 'far beyond'],
    [Date.now(), 'milliseconds passed as seconds'],
    [-1, 'before the epoch'],
    [Number.NaN, 'not a number'],
    [Number.POSITIVE_INFINITY, 'infinite'],
    ['100', 'a string'],
  ])('timestamp %s (%s) rejects the call on every engine', async (timestamp, _why) => {
    const store = harness.store();
    const quotas = quotasOn(store);
    const t = timestamp as number;
    await expectInvalid(() => quotas.isRateLimited(project, { timestamp: t }), 'timestamp');
    await expectInvalid(() => quotas.refund(project, { timestamp: t }), 'timestamp');
    await expectInvalid(() => quotas.getUsage(project, { timestamp: t }), 'timestamp');
    const windows = new SlidingWindowRateLimiter(store);
    const requests = [
      {
        prefix: 'p',
        requested: 1,
        quotas: [new Quota({ windowSeconds: 1, granularitySeconds: 1, limit: 2 })],
      },
    ];
    await expectInvalid(() => windows.checkAndUseQuotas(requests, t), 'timestamp');
    await expectInvalid(() => windows.checkWithinQuotas(requests, t), 'timestamp');
    expect(await harness.keyCount(store)).toBe(0);
  });

  it('any timestamp in [0, 1e11) is decided, never compared with the clock', async () => {
    const store = harness.store();
    const quotas = quotasOn(store);
    const window = new Quota({ windowSeconds: 10, granularitySeconds: 1, limit: 2 });
    const windows = new SlidingWindowRateLimiter(store);
    for (const timestamp of [0, 100, LATER, 1e11 - 1]) {
      const limited = [];
      for (let i = 0; i < 3; i++) {
        limited.push((await quotas.isRateLimited(project, { timestamp })).isLimited);
      }
      expect(limited, `quotas at ${timestamp}`).toEqual([false, false, true]);
      const usage = await quotas.getUsage(project, { timestamp });
      expect(usage.map((u) => u.used)).toEqual([2]);
      const granted = [];
      for (let i = 0; i < 3; i++) {
        const [grant] = await windows.checkAndUseQuotas(
          [{ prefix: `w${timestamp}`, requested: 1, quotas: [window] }],
          timestamp,
        );
        granted.push(grant!.granted);
      }
      expect(granted, `sliding window at ${timestamp}`).toEqual([1, 1, 0]);
    }
  });

  it('a per-call windowSeconds above 1e9 rejects only that call', async () => {
    const quotas = quotasOn(harness.store());
    await expectInvalid(
      () => quotas.isRateLimited(project, { timestamp: 100, key: '1e15' }),
      'getQuotas()[0].windowSeconds',
      1e15,
    );
    await expectInvalid(
      () => quotas.refund(project, { timestamp: 100, key: '1e15' }),
      'getQuotas()[0].windowSeconds',
    );
    expect((await quotas.isRateLimited(project, { timestamp: 100, key: '1e9' })).isLimited).toBe(
      false,
    );
  });

  it('organizationId: missing, null or empty is invalid; 0 and any other string are valid', async () => {
    const quotas = new Quotas({
      store: harness.store(),
      getQuotas: () => [{ id: 'o', limit: 1, windowSeconds: 60, reasonCode: 'org_quota' }],
    });
    for (const organizationId of [undefined, null, '']) {
      const bad = { id: 1, organizationId } as unknown as Project;
      await expectInvalid(
        () => quotas.isRateLimited(bad, { timestamp: 100 }),
        'project.organizationId',
        organizationId,
      );
      await expectInvalid(() => quotas.refund(bad, { timestamp: 100 }), 'project.organizationId');
      await expectInvalid(() => quotas.getUsage(bad, { timestamp: 100 }), 'project.organizationId');
    }
    // Each valid id is its own organization: one unit each, none shares another's counter.
    for (const organizationId of [0, 'undefined', ' ', 'null', 1]) {
      const org = { id: 1, organizationId };
      expect((await quotas.isRateLimited(org, { timestamp: 100 })).isLimited).toBe(false);
      expect((await quotas.isRateLimited(org, { timestamp: 100 })).isLimited).toBe(true);
    }
  });

  it('a project-scoped quota names a missing project id', async () => {
    const quotas = quotasOn(harness.store());
    await expectInvalid(
      () => quotas.isRateLimited({ organizationId: 1 } as Project, { timestamp: 100 }),
      'project.id',
      undefined,
    );
  });

  it('one bad call never fails the good calls made beside it', async () => {
    const store = harness.store();
    const quotas = quotasOn(store);
    const windows = new SlidingWindowRateLimiter(store);
    const window = new Quota({ windowSeconds: 60, granularitySeconds: 1, limit: 100 });
    // All in one event-loop turn: on Redis the good calls share one batch per operation.
    const good = Array.from({ length: 8 }, (_, i) =>
      quotas.isRateLimited({ id: i, organizationId: 1 }, { timestamp: 100 }),
    );
    const goodWindows = Array.from({ length: 4 }, (_, i) =>
      windows.checkAndUseQuotas([{ prefix: `g${i}`, requested: 1, quotas: [window] }], 100),
    );
    const bad = [
      quotas.isRateLimited(project, { timestamp: 100, key: '1e15' }),
      quotas.isRateLimited(project, { timestamp: 1e13 }),
      quotas.isRateLimited({ id: 1 } as Project, { timestamp: 100 }),
      quotas.refund(project, { timestamp: 1e18 }),
      windows.checkAndUseQuotas([{ prefix: 'b', requested: 1, quotas: [window] }], 1e18),
    ];
    const [goodResults, windowResults, badResults] = await Promise.all([
      Promise.allSettled(good),
      Promise.allSettled(goodWindows),
      Promise.allSettled(bad),
    ]);
    expect(goodResults.map((r) => r.status === 'fulfilled' && !r.value.isLimited)).toEqual(
      good.map(() => true),
    );
    expect(
      windowResults.map((r) => (r.status === 'fulfilled' ? r.value[0]!.granted : r.reason)),
    ).toEqual(goodWindows.map(() => 1));
    for (const result of badResults) {
      expect(result.status).toBe('rejected');
      expect((result as PromiseRejectedResult).reason).toBeInstanceOf(InvalidConfiguration);
    }
  });
});
