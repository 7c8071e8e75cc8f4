import type { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ConcurrencyLimiter,
  type ConcurrencyLimiterOptions,
  type Lease,
  MemoryStore,
  type Store,
} from '@sluice/core';
import { until } from '@sluice/test-support/processes';
import { STORE_KINDS, type StoreHarness, useStore } from '@sluice/test-support/stores';
import { describe, expect, it } from 'vitest';

/** Records every event of a limiter, in order. */
function record(limiter: ConcurrencyLimiter): Array<[string, Record<string, unknown>]> {
  const seen: Array<[string, Record<string, unknown>]> = [];
  for (const name of [
    'acquired',
    'released',
    'waited',
    'timeout',
    'skipped',
    'reclaimed',
    'lost',
  ] as const) {
    const events: EventEmitter = limiter.events;
    events.on(name, (event: Record<string, unknown>) => seen.push([name, { ...event }]));
  }
  return seen;
}

const named = (seen: Array<[string, Record<string, unknown>]>, name: string) =>
  seen.filter(([n]) => n === name).map(([, e]) => e);

const held = (results: Array<Lease | null>) => results.filter((l): l is Lease => l !== null);

/**
 * A store whose clock the test moves: the memory store gets an injected clock (no sleeping);
 * Redis keeps its own `TIME`, so lease expiry there takes a real wait.
 */
function timedStore(harness: StoreHarness): { store: Store; advance(ms: number): Promise<void> } {
  if (harness.kind !== 'memory') return { store: harness.store(), advance: (ms) => sleep(ms) };
  let now = Date.now();
  const prefix = `tclock${Math.random().toString(36).slice(2, 10)}`;
  const store = new MemoryStore({ prefix, clock: () => now });
  return {
    store,
    async advance(ms) {
      now += ms;
    },
  };
}

describe.each(STORE_KINDS)('ConcurrencyLimiter on %s', (kind) => {
  const harness = useStore(kind);
  const limiterOf = (options: ConcurrencyLimiterOptions, store = harness.store()) =>
    new ConcurrencyLimiter(store, options);

  it('20 concurrent acquires with limit 3 get exactly 3 leases', async () => {
    const limiter = limiterOf({ limit: 3 });
    const seen = record(limiter);
    const results = await Promise.all(Array.from({ length: 20 }, () => limiter.acquire('q')));
    const leases = held(results);
    expect(leases).toHaveLength(3);
    expect(new Set(leases.map((l) => l.id)).size).toBe(3);
    expect(await limiter.inFlight('q')).toBe(3);
    expect(
      named(seen, 'acquired')
        .map((e) => e.inFlight)
        .sort(),
    ).toEqual([1, 2, 3]);
    expect(named(seen, 'timeout')).toHaveLength(17);
    await Promise.all(leases.map((l) => l.release()));
    expect(await limiter.inFlight('q')).toBe(0);
    expect(await harness.keyCount(limiter.store)).toBe(0);
  });

  it('a release lets exactly one waiter in', async () => {
    const limiter = limiterOf({ limit: 3, leaseSeconds: 10, retryIntervalSeconds: 0.05 });
    const holders = held(await Promise.all([1, 2, 3].map(() => limiter.acquire('q'))));
    expect(holders).toHaveLength(3);
    const abort = new AbortController();
    const granted: Lease[] = [];
    const waiting = Array.from({ length: 17 }, () =>
      limiter.acquire('q', { waitSeconds: 20, signal: abort.signal }).then((lease) => {
        if (lease !== null) granted.push(lease);
        return lease;
      }),
    );
    await sleep(200);
    expect(granted).toHaveLength(0);

    await holders[0]!.release();
    expect(await until(() => granted.length > 0, 2000)).toBe(true);
    // Several retry intervals later, still exactly one.
    await sleep(300);
    expect(granted).toHaveLength(1);
    expect(await limiter.inFlight('q')).toBe(3);

    const aborted = performance.now();
    abort.abort();
    const rest = await Promise.all(waiting);
    expect(performance.now() - aborted).toBeLessThan(250);
    expect(held(rest)).toHaveLength(1);
    await Promise.all([...holders.slice(1), ...granted].map((l) => l.release()));
    expect(await limiter.inFlight('q')).toBe(0);
  });

  it('a release hands the slot to this process’s oldest waiter, in the same store step', async () => {
    const limiter = limiterOf({ limit: 1, leaseSeconds: 10, retryIntervalSeconds: 5 });
    const order: number[] = [];
    let lease = (await limiter.acquire('q'))!;
    const waiters = [1, 2, 3].map((n) =>
      limiter.acquire('q', { waitSeconds: 20 }).then((l) => {
        order.push(n);
        return l!;
      }),
    );
    await sleep(50);
    for (const waiter of waiters) {
      const released = performance.now();
      await lease.release();
      lease = await waiter;
      // Far sooner than the retry interval: the release itself admitted the waiter.
      expect(performance.now() - released).toBeLessThan(250);
      expect(await limiter.inFlight('q')).toBe(1);
    }
    expect(order).toEqual([1, 2, 3]);
    await lease.release();
    expect(await limiter.inFlight('q')).toBe(0);
  });

  it('release is idempotent and never frees another holder’s slot', async () => {
    const limiter = limiterOf({ limit: 1 });
    const seen = record(limiter);
    const a = (await limiter.acquire('q'))!;
    await Promise.all([a.release(), a.release()]);
    await a.release();
    expect(named(seen, 'released')).toHaveLength(1);
    expect(named(seen, 'released')[0]).toMatchObject({ id: a.id, expired: false, inFlight: 0 });
    expect(await a.extend()).toBe(false);

    const b = (await limiter.acquire('q'))!;
    expect(b).not.toBeNull();
    await a.release();
    expect(await limiter.inFlight('q')).toBe(1);
    expect(await limiter.acquire('q')).toBeNull();
    await b.release();
  });

  it('an expired lease is reclaimed by the next acquire; its holder can neither extend nor free that slot', async () => {
    const { store, advance } = timedStore(harness);
    // A 1 s lease: on Redis time really passes, and every margin below is 300 ms or more, so
    // a loaded machine's slow round trips cannot expire a lease the test counts as live.
    const limiter = limiterOf({ limit: 2, leaseSeconds: 1, retryIntervalSeconds: 0.05 }, store);
    const seen = record(limiter);
    const a = (await limiter.acquire('q'))!;
    await advance(500);
    const c = (await limiter.acquire('q'))!;
    expect(await limiter.acquire('q')).toBeNull();
    await advance(700); // a expired, c still live
    expect(await limiter.inFlight('q')).toBe(1);

    const b = (await limiter.acquire('q'))!;
    expect(b).not.toBeNull();
    expect(named(seen, 'reclaimed')).toEqual([{ key: 'q', count: 1 }]);
    expect(await a.extend()).toBe(false);
    expect(a.signal.aborted).toBe(true);
    expect(named(seen, 'lost')).toEqual([{ key: 'q', id: a.id }]);
    await a.release();
    expect(named(seen, 'released').at(-1)).toMatchObject({ id: a.id, expired: true, inFlight: 2 });
    expect(await limiter.inFlight('q')).toBe(2);
    expect(await limiter.acquire('q')).toBeNull();
    expect(await b.extend()).toBe(true);
    await Promise.all([b.release(), c.release()]);
    expect(await limiter.inFlight('q')).toBe(0);
  });

  it('extend renews a live lease for another lease length', async () => {
    const { store, advance } = timedStore(harness);
    const limiter = limiterOf({ limit: 1, leaseSeconds: 1, retryIntervalSeconds: 0.05 }, store);
    const a = (await limiter.acquire('q'))!;
    await advance(700);
    expect(await a.extend()).toBe(true);
    await advance(700); // 1.4 s after the grant, 0.7 s after the renewal
    expect(await limiter.inFlight('q')).toBe(1);
    expect(await limiter.acquire('q')).toBeNull();
    await a.release();
  });

  it('the key lives as long as its latest lease and disappears when abandoned', async () => {
    const { store, advance } = timedStore(harness);
    const limiter = limiterOf({ limit: 2, leaseSeconds: 1, retryIntervalSeconds: 0.05 }, store);
    const storeKey = `${store.prefix}:c:{q}`;
    const a = (await limiter.acquire('q'))!;
    const ttl = await harness.pttl(store, storeKey);
    expect(ttl).toBeGreaterThan(700);
    expect(ttl).toBeLessThanOrEqual(1000);
    await a.release();
    expect(await harness.pttl(store, storeKey)).toBeLessThan(0);

    await limiter.acquire('q'); // abandoned: never released
    await advance(500);
    const b = (await limiter.acquire('q'))!;
    expect(await harness.pttl(store, storeKey)).toBeGreaterThan(700);
    await advance(1200);
    expect(await harness.pttl(store, storeKey)).toBeLessThan(0);
    expect(await b.extend()).toBe(false);
  });

  it('a shorter lease never shortens the key under a longer one of another limiter', async () => {
    const store = harness.store();
    const long = limiterOf({ limit: 2, leaseSeconds: 10 }, store);
    const short = limiterOf({ limit: 2, leaseSeconds: 0.3, retryIntervalSeconds: 0.05 }, store);
    const storeKey = `${store.prefix}:c:{q}`;
    const a = (await long.acquire('q'))!;
    const b = (await short.acquire('q'))!;
    expect(await harness.pttl(store, storeKey)).toBeGreaterThan(9000);
    expect(await b.extend()).toBe(true);
    expect(await harness.pttl(store, storeKey)).toBeGreaterThan(9000);
    await Promise.all([a.release(), b.release()]);
    expect(await harness.keyCount(store)).toBe(0);
  });

  it('keys are independent, and any string is a safe key', async () => {
    const limiter = limiterOf({ limit: 1 });
    const keys = ['a', '{a}', 'a}', '{', '', 'a:b', 'a b', 'ü', 'x'.repeat(300)];
    const leases = await Promise.all(keys.map((k) => limiter.acquire(k)));
    expect(held(leases)).toHaveLength(keys.length);
    for (const k of keys) expect(await limiter.inFlight(k)).toBe(1);
    await Promise.all(held(leases).map((l) => l.release()));
    expect(await harness.keyCount(limiter.store)).toBe(0);
  });

  it('reset frees every slot of a key; the dropped holders cannot extend', async () => {
    const limiter = limiterOf({ limit: 2 });
    const a = (await limiter.acquire('q'))!;
    const b = (await limiter.acquire('q'))!;
    const waiter = limiter.acquire('q', { waitSeconds: 5 });
    await sleep(50);
    await limiter.reset('q');
    const c = await waiter;
    expect(c).not.toBeNull();
    expect(await a.extend()).toBe(false);
    await b.release();
    expect(await limiter.inFlight('q')).toBe(1);
    await c!.release();
    expect(await limiter.inFlight('q')).toBe(0);
  });

  it('waitSeconds is honoured within 250 ms, whatever the retry interval', async () => {
    const limiter = limiterOf({ limit: 1, retryIntervalSeconds: 1 });
    const seen = record(limiter);
    const holder = (await limiter.acquire('q'))!;
    const started = performance.now();
    expect(await limiter.acquire('q', { waitSeconds: 0.5 })).toBeNull();
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThanOrEqual(500);
    expect(waited).toBeLessThan(750);
    expect(named(seen, 'timeout')).toHaveLength(1);
    expect(named(seen, 'timeout')[0]!.waitedSeconds).toBeGreaterThanOrEqual(0.5);
    expect(named(seen, 'waited')[0]).toMatchObject({ key: 'q', acquired: false });
    await holder.release();
  });

  it('a waiter gets a slot freed by a release as soon as it frees up', async () => {
    const limiter = limiterOf({ limit: 1, waitSeconds: 5, retryIntervalSeconds: 1 });
    const seen = record(limiter);
    const holder = (await limiter.acquire('q'))!;
    const waiter = limiter.acquire('q');
    // Read after acquire() took its own start synchronously: the engine's wait covers this one.
    const waitStarted = performance.now();
    // A timer may fire up to ~1 ms early by performance.now() (libuv schedules it from the
    // loop's cached, millisecond-truncated time), so the bound is the wait measured here, not 100.
    await sleep(100);
    const released = performance.now();
    await holder.release();
    const lease = await waiter;
    expect(lease).not.toBeNull();
    expect(performance.now() - released).toBeLessThan(250);
    expect(named(seen, 'waited')[0]).toMatchObject({ key: 'q', acquired: true });
    const { waitedSeconds } = named(seen, 'acquired').at(-1)!;
    expect(waitedSeconds).toBeGreaterThanOrEqual((released - waitStarted) / 1000);
    expect(waitedSeconds).toBeGreaterThanOrEqual(0.09);
    await lease!.release();
  });

  it('an abort ends a wait within 250 ms, not at the next retry', async () => {
    const limiter = limiterOf({ limit: 1, retryIntervalSeconds: 1 });
    const seen = record(limiter);
    const holder = (await limiter.acquire('q'))!;
    const abort = new AbortController();
    const waiter = limiter.acquire('q', { waitSeconds: 30, signal: abort.signal });
    await sleep(100);
    const aborted = performance.now();
    abort.abort();
    expect(await waiter).toBeNull();
    expect(performance.now() - aborted).toBeLessThan(250);
    expect(named(seen, 'timeout')).toHaveLength(0);
    expect(named(seen, 'waited')[0]).toMatchObject({ acquired: false });
    expect(await limiter.acquire('q', { signal: AbortSignal.abort() })).toBeNull();
    await holder.release();
    expect(await limiter.inFlight('q')).toBe(0);
  });

  it('run returns the value and releases the slot', async () => {
    const limiter = limiterOf({ limit: 1 });
    let inside = -1;
    const result = await limiter.run('q', async (lease) => {
      inside = await limiter.inFlight(lease.key);
      return 'done';
    });
    expect(result).toEqual({ acquired: true, value: 'done' });
    expect(inside).toBe(1);
    expect(await limiter.inFlight('q')).toBe(0);
  });

  it('run releases the slot when fn throws, and rethrows', async () => {
    const limiter = limiterOf({ limit: 1 });
    const failure = new Error('query failed');
    await expect(
      limiter.run('q', async () => {
        throw failure;
      }),
    ).rejects.toBe(failure);
    await expect(
      limiter.run('q', () => {
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(await limiter.inFlight('q')).toBe(0);
  });

  it('run releases the slot within 250 ms when its signal aborts while fn runs', async () => {
    const limiter = limiterOf({ limit: 1 });
    const abort = new AbortController();
    let leaseSignal: AbortSignal | undefined;
    const running = limiter.run(
      'q',
      async (lease) => {
        leaseSignal = lease.signal;
        await sleep(5000, undefined, { signal: lease.signal }).catch(() => undefined);
        return 'late';
      },
      { signal: abort.signal },
    );
    await sleep(100);
    expect(await limiter.inFlight('q')).toBe(1);
    const aborted = performance.now();
    abort.abort(new Error('client went away'));
    await expect(running).rejects.toThrow('client went away');
    expect(performance.now() - aborted).toBeLessThan(250);
    expect(leaseSignal?.aborted).toBe(true);
    expect(await limiter.inFlight('q')).toBe(0);
  });

  it('run does not call fn when no slot came, and says so', async () => {
    const limiter = limiterOf({ limit: 1 });
    const seen = record(limiter);
    const holder = (await limiter.acquire('q'))!;
    let called = false;
    const fn = async () => {
      called = true;
    };
    expect(await limiter.run('q', fn, { waitSeconds: 0.1 })).toEqual({ acquired: false });
    expect(await limiter.run('q', fn, { signal: AbortSignal.abort() })).toEqual({
      acquired: false,
    });
    expect(called).toBe(false);
    expect(named(seen, 'skipped')).toEqual([
      { key: 'q', reason: 'timeout' },
      { key: 'q', reason: 'aborted' },
    ]);
    await holder.release();
  });

  it('run with autoExtend keeps a job that outlives its lease; without it the slot is lost', async () => {
    const limiter = limiterOf({ limit: 1, leaseSeconds: 0.2, retryIntervalSeconds: 0.05 });
    const seen = record(limiter);
    const job = (extend: boolean) =>
      limiter.run(
        'q',
        async (lease) => {
          await sleep(500);
          const other = await limiter.acquire('q');
          await other?.release();
          return { stolen: other !== null, lost: lease.signal.aborted };
        },
        { autoExtend: extend },
      );
    expect(await job(true)).toEqual({ acquired: true, value: { stolen: false, lost: false } });
    expect(named(seen, 'lost')).toHaveLength(0);
    expect(await job(false)).toEqual({ acquired: true, value: { stolen: true, lost: false } });
    expect(named(seen, 'released').at(-1)).toMatchObject({ expired: true });
    expect(await limiter.inFlight('q')).toBe(0);
  });
});
