import {
  ConcurrencyLimiter,
  type ConcurrencyLimiterOptions,
  InvalidConfiguration,
  MemoryStore,
  type Store,
  StoreUnavailableError,
} from '@sluice/core';
import { describe, expect, it } from 'vitest';

const store = new MemoryStore();

function configError(make: () => unknown): InvalidConfiguration {
  try {
    make();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidConfiguration);
    return error as InvalidConfiguration;
  }
  throw new Error('expected InvalidConfiguration');
}

describe('ConcurrencyLimiter configuration', () => {
  it.each([
    [{ limit: 0 }, 'limit', 0],
    [{ limit: -1 }, 'limit', -1],
    [{ limit: Number.NaN }, 'limit', Number.NaN],
    [{ limit: 2.5 }, 'limit', 2.5],
    [{ limit: '3' }, 'limit', '3'],
    [{}, 'limit', undefined],
    [{ limit: 1, leaseSeconds: 0 }, 'leaseSeconds', 0],
    [{ limit: 1, leaseSeconds: Number.NaN }, 'leaseSeconds', Number.NaN],
    [
      { limit: 1, leaseSeconds: Number.POSITIVE_INFINITY },
      'leaseSeconds',
      Number.POSITIVE_INFINITY,
    ],
    [{ limit: 1, leaseSeconds: 0.5 }, 'leaseSeconds', 0.5],
    [{ limit: 1, leaseSeconds: 2, retryIntervalSeconds: 3 }, 'leaseSeconds', 2],
    [{ limit: 1, retryIntervalSeconds: 0 }, 'retryIntervalSeconds', 0],
    [{ limit: 1, retryIntervalSeconds: Number.NaN }, 'retryIntervalSeconds', Number.NaN],
    [{ limit: 1, waitSeconds: -1 }, 'waitSeconds', -1],
    [{ limit: 1, waitSeconds: Number.NaN }, 'waitSeconds', Number.NaN],
    [{ limit: 1, autoExtend: 'yes' }, 'autoExtend', 'yes'],
  ])('rejects %j naming %s', (options, option, value) => {
    const error = configError(
      () => new ConcurrencyLimiter(store, options as unknown as ConcurrencyLimiterOptions),
    );
    expect(error.option).toBe(option);
    expect(error.value).toEqual(value);
    expect(error.code).toBe('SLUICE_INVALID_CONFIGURATION');
    expect(error.message).toContain(`\`${option}\``);
  });

  it('names retryIntervalSeconds when the lease is shorter than it', () => {
    const error = configError(() => new ConcurrencyLimiter(store, { limit: 1, leaseSeconds: 0.5 }));
    expect(error.message).toContain('retryIntervalSeconds');
  });

  it('rejects a missing store or options', () => {
    expect(
      configError(() => new ConcurrencyLimiter(null as unknown as Store, { limit: 1 })).option,
    ).toBe('store');
    expect(
      configError(
        () => new ConcurrencyLimiter(store, undefined as unknown as ConcurrencyLimiterOptions),
      ).option,
    ).toBe('options');
  });

  it('takes the documented defaults', () => {
    const limiter = new ConcurrencyLimiter(store, { limit: 50 });
    expect(limiter).toMatchObject({
      limit: 50,
      leaseSeconds: 300,
      waitSeconds: 0,
      retryIntervalSeconds: 1,
      autoExtend: false,
    });
    const endless = new ConcurrencyLimiter(store, {
      limit: 1,
      waitSeconds: Number.POSITIVE_INFINITY,
    });
    expect(endless.waitSeconds).toBe(Number.POSITIVE_INFINITY);
  });

  it('rejects bad per-call input with the typed error, before any store step', async () => {
    let calls = 0;
    const counting: Store = {
      prefix: 'x',
      clustered: false,
      run: (op, call) => {
        calls++;
        return store.run(op, call);
      },
    };
    const limiter = new ConcurrencyLimiter(counting, { limit: 1 });
    const cases: Array<[Promise<unknown>, string]> = [
      [limiter.acquire('q', { waitSeconds: -1 }), 'waitSeconds'],
      [limiter.acquire('q', { signal: {} as AbortSignal }), 'signal'],
      [limiter.acquire(42 as unknown as string), 'key'],
      [limiter.run('q', 'fn' as unknown as () => Promise<void>), 'fn'],
      [limiter.run('q', async () => 1, { autoExtend: 1 as unknown as boolean }), 'autoExtend'],
      [limiter.inFlight(undefined as unknown as string), 'key'],
      [limiter.reset({} as unknown as string), 'key'],
    ];
    for (const [call, option] of cases) {
      await expect(call).rejects.toMatchObject({ name: 'InvalidConfiguration', option });
    }
    expect(calls).toBe(0);
  });

  it('a store failure rejects the call with StoreUnavailableError, never a silent null', async () => {
    const failing: Store = {
      prefix: 'x',
      clustered: false,
      run: () => Promise.reject(new StoreUnavailableError('down', { timedOut: false })),
    };
    const limiter = new ConcurrencyLimiter(failing, { limit: 1 });
    await expect(limiter.acquire('q')).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(limiter.run('q', async () => 1)).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(limiter.inFlight('q')).rejects.toBeInstanceOf(StoreUnavailableError);
  });
});
