import {
  type GrantedQuota,
  Quota,
  type RequestedQuota,
  SlidingWindowRateLimiter,
} from '@sluice/core';
import { STORE_KINDS, useStore } from '@sluice/test-support/stores';
import { describe, expect, it } from 'vitest';

/** Upstream's tests start their timestamps here. */
const T = 100;

const request = (prefix: string, requested: number, quotas: Quota[]): RequestedQuota => ({
  prefix,
  requested,
  quotas,
});
const grant = (
  prefix: string,
  granted: number,
  reachedQuotas: Quota[],
  retryAfter?: number,
): GrantedQuota =>
  retryAfter === undefined
    ? { prefix, granted, reachedQuotas }
    : { prefix, granted, reachedQuotas, retryAfter };

describe.each(STORE_KINDS)('SlidingWindowRateLimiter on %s', (kind) => {
  const harness = useStore(kind);
  const limiter = () => new SlidingWindowRateLimiter(harness.store());

  /** Units still free in `quota` for `prefix` at `t`: a check-only call asking for everything. */
  const free = async (l: SlidingWindowRateLimiter, prefix: string, quota: Quota, t: number) => {
    const [, [g]] = await l.checkWithinQuotas([request(prefix, 1_000_000, [quota])], t);
    return g!.granted;
  };

  it('upstream basic vector: 10 per 10 s at 1 s grants one per second, then slides', async () => {
    const l = limiter();
    const quotas = [new Quota({ windowSeconds: 10, granularitySeconds: 1, limit: 10 })];
    for (let t = 0; t < 10; t++) {
      expect(await l.checkAndUseQuotas([request('foo', 1, quotas)], T + t)).toEqual([
        grant('foo', 1, []),
      ]);
    }
    expect(await l.checkAndUseQuotas([request('foo', 1, quotas)], T + 9)).toEqual([
      grant('foo', 0, quotas, 1),
    ]);
    for (let t = 10; t < 20; t++) {
      expect(await l.checkAndUseQuotas([request('foo', 1, quotas)], T + t)).toEqual([
        grant('foo', 1, []),
      ]);
      expect(await l.checkAndUseQuotas([request('foo', 1, quotas)], T + t)).toEqual([
        grant('foo', 0, quotas, 1),
      ]);
    }
  });

  it('upstream multiple windows: 10/10 s and 5/5 s with 6 requested', async () => {
    const l = limiter();
    const quotas = [
      new Quota({ windowSeconds: 10, granularitySeconds: 1, limit: 10 }),
      new Quota({ windowSeconds: 5, granularitySeconds: 1, limit: 5 }),
    ];
    const ask = (t: number) => l.checkAndUseQuotas([request('foo', 6, quotas)], t);
    expect(await ask(T)).toEqual([grant('foo', 5, quotas.slice(1), 5)]);
    expect(await ask(T)).toEqual([grant('foo', 0, quotas, 5)]);
    expect(await ask(T + 2)).toEqual([grant('foo', 0, quotas, 3)]);
    // The 10-window frees a unit at T+10, but this grant filled the 5-window until T+11.
    expect(await ask(T + 6)).toEqual([grant('foo', 5, quotas.slice(0, 1), 5)]);
  });

  it('upstream conflicting quotas: a shared prefixOverride quota of 10 grants 6 then 4', async () => {
    const l = limiter();
    const quotas = [
      new Quota({ windowSeconds: 10, granularitySeconds: 1, limit: 10, prefixOverride: 'hello' }),
    ];
    expect(
      await l.checkAndUseQuotas([request('foo', 6, quotas), request('bar', 6, quotas)], T),
    ).toEqual([grant('foo', 6, []), grant('bar', 4, quotas, 10)]);
  });

  it('shared quotas match by prefixOverride, window and granularity, not by object', async () => {
    const l = limiter();
    const shared = () =>
      new Quota({ windowSeconds: 10, granularitySeconds: 1, limit: 10, prefixOverride: 'g' });
    const [a, b] = [shared(), shared()];
    const [, grants] = await l.checkWithinQuotas(
      [request('foo', 6, [a]), request('bar', 6, [b])],
      T,
    );
    expect(grants).toEqual([grant('foo', 6, []), grant('bar', 4, [b], 10)]);
    expect(grants[1]!.reachedQuotas[0]).toBe(b);
  });

  it('upstream empty quota: a limit-0 quota grants 0, is reached, and retry never helps', async () => {
    const l = limiter();
    const quotas = [new Quota({ windowSeconds: 10, granularitySeconds: 1, limit: 0 })];
    expect(await l.checkAndUseQuotas([request('foo', 1, quotas)])).toEqual([
      grant('foo', 0, quotas, Number.POSITIVE_INFINITY),
    ]);
    expect(await l.checkAndUseQuotas([request('foo', 1, quotas)], T)).toEqual([
      grant('foo', 0, quotas, Number.POSITIVE_INFINITY),
    ]);
  });

  it("the seed's worked example: 1 unit at t=900, then at t=902 at most 9 are granted", async () => {
    const l = limiter();
    const per30 = new Quota({ windowSeconds: 30, granularitySeconds: 10, limit: 100 });
    const per3 = new Quota({ windowSeconds: 3, granularitySeconds: 1, limit: 10 });
    const quotas = [per30, per3];
    const prefix = 'org-id:123';
    expect([...per3.iterWindow(900)]).toEqual([900, 899, 898]);
    expect([...per30.iterWindow(900)]).toEqual([90, 89, 88]);

    expect(await l.checkAndUseQuotas([request(prefix, 1, quotas)], 900)).toEqual([
      grant(prefix, 1, []),
    ]);
    // Both windows sum to 1: the 3-second one leaves 9 of its 10.
    expect(await free(l, prefix, per30, 902)).toBe(99);
    expect(await free(l, prefix, per3, 902)).toBe(9);
    const [timestamp, grants] = await l.checkWithinQuotas([request(prefix, 10, quotas)], 902);
    expect(timestamp).toBe(902);
    expect(grants).toEqual([grant(prefix, 9, [per3], 1)]);
    const [, all] = await l.checkWithinQuotas([request(prefix, 100, quotas)], 902);
    expect(all).toEqual([grant(prefix, 9, [per30, per3], 1)]);

    // Using 1 at t=902: the 3-second granules 900 and 902 hold 1 each, the 30-second granule 90 holds 2.
    await l.useQuotas([request(prefix, 1, quotas)], [grant(prefix, 1, [])], 902);
    expect(await free(l, prefix, per3, 902)).toBe(8);
    expect(await free(l, prefix, per30, 902)).toBe(98);
    expect(await free(l, prefix, per3, 903)).toBe(9); // granule 900 left the 3-second window
    expect(await free(l, prefix, per30, 909.999)).toBe(98);
    expect(await free(l, prefix, per30, 929.999)).toBe(98);
    expect(await free(l, prefix, per30, 930)).toBe(100); // granule 90 left the 30-second window
  });

  it('retryAfter is the time until the reached windows allow one more unit', async () => {
    const l = limiter();
    const quota = new Quota({ windowSeconds: 10, granularitySeconds: 1, limit: 10 });
    const use = (units: number, t: number) =>
      l.useQuotas([request('r', units, [quota])], [grant('r', units, [])], t);
    await use(3, 100.2);
    await use(7, 105.7);
    expect(await l.checkAndUseQuotas([request('r', 1, [quota])], 106.5)).toEqual([
      grant('r', 0, [quota], 3.5),
    ]);
    // The 3 units of granule 100 leave at t=110; the next 7 at t=115.
    expect(await l.checkAndUseQuotas([request('r', 5, [quota])], 110)).toEqual([
      grant('r', 3, [quota], 5),
    ]);
    // A partial grant that fills the window: one more unit frees when granule 105 leaves.
    expect(await free(l, 'r', quota, 114.9)).toBe(0);
    expect(await free(l, 'r', quota, 115)).toBe(7);
  });

  it('retryAfter waits for the slowest reached window', async () => {
    const l = limiter();
    const slow = new Quota({ windowSeconds: 60, granularitySeconds: 10, limit: 4 });
    const fast = new Quota({ windowSeconds: 2, granularitySeconds: 1, limit: 2 });
    expect(await l.checkAndUseQuotas([request('w', 4, [slow, fast])], 1000)).toEqual([
      grant('w', 2, [fast], 2),
    ]);
    expect(await l.checkAndUseQuotas([request('w', 4, [slow, fast])], 1002)).toEqual([
      grant('w', 2, [slow], 58),
    ]);
  });

  it('retryAfter also waits for a window the grant filled without being reached', async () => {
    const l = limiter();
    const fast = new Quota({ windowSeconds: 2, granularitySeconds: 1, limit: 2 });
    const slow = new Quota({ windowSeconds: 60, granularitySeconds: 10, limit: 4 });
    await l.checkAndUseQuotas([request('f', 2, [slow])], 1000);
    // fast cuts 4 to 2; slow then has exactly 2 left: filled, not reached.
    expect(await l.checkAndUseQuotas([request('f', 4, [fast, slow])], 1001)).toEqual([
      grant('f', 2, [fast], 59),
    ]);
    expect(await free(l, 'f', fast, 1003)).toBe(2);
    expect(await free(l, 'f', slow, 1003)).toBe(0);
  });

  it('a window moving back in time does not count granules after its own', async () => {
    const l = limiter();
    const quota = new Quota({ windowSeconds: 10, granularitySeconds: 1, limit: 10 });
    await l.checkAndUseQuotas([request('b', 4, [quota])], 100);
    await l.checkAndUseQuotas([request('b', 5, [quota])], 105);
    expect(await free(l, 'b', quota, 103)).toBe(6);
    expect(await free(l, 'b', quota, 99)).toBe(10);
    expect(await free(l, 'b', quota, 105)).toBe(1);
  });

  it('keeps one hash per window, expiring when its newest granule leaves the window', async () => {
    const store = harness.store();
    const l = new SlidingWindowRateLimiter(store);
    const quota = new Quota({ windowSeconds: 10, granularitySeconds: 1, limit: 100 });
    const key = `${store.prefix}:sw:{foo}:10000:1000`;
    await l.checkAndUseQuotas([request('foo', 1, [quota])], 100.25);
    // Relative to the decision time: granule 100 leaves the window at t=110, and is kept one
    // granule more for calls from a slightly late clock.
    let ttl = await harness.pttl(store, key);
    expect(ttl).toBeGreaterThan(10_750 - 250);
    expect(ttl).toBeLessThanOrEqual(10_750);
    for (let t = 101; t < 110; t++)
      await l.checkAndUseQuotas([request('foo', 1, [quota])], t + 0.5);
    expect(await harness.keyCount(store)).toBe(1);
    ttl = await harness.pttl(store, key);
    expect(ttl).toBeGreaterThan(10_500 - 250);
    expect(ttl).toBeLessThanOrEqual(10_500);
    // Check-only calls prune what left the window (one granule late); a refusal counts nothing.
    expect(await free(l, 'foo', quota, 118.5)).toBe(99);
    expect(await free(l, 'foo', quota, 119.5)).toBe(100);
    expect(await harness.keyCount(store)).toBe(1);
    expect(await free(l, 'foo', quota, 120.5)).toBe(100);
    expect(await harness.keyCount(store)).toBe(0);
    const none = new Quota({ windowSeconds: 10, granularitySeconds: 1, limit: 0 });
    await l.checkAndUseQuotas([request('foo', 1, [none])], 120);
    expect(await harness.keyCount(store)).toBe(0);
  });

  it('a window far in the past or future of the store clock still expires relative to it', async () => {
    const store = harness.store();
    const l = new SlidingWindowRateLimiter(store);
    const quota = new Quota({ windowSeconds: 3600, granularitySeconds: 60, limit: 100 });
    for (const t of [60, 4_000_000_020]) {
      await l.checkAndUseQuotas([request(`far${t}`, 1, [quota])], t);
      const ttl = await harness.pttl(store, `${store.prefix}:sw:{far${t}}:3600000:60000`);
      expect(ttl).toBeGreaterThan(3_660_000 - 1000);
      expect(ttl).toBeLessThanOrEqual(3_660_000);
    }
  });

  it('a call up to one granule late (a skewed clock) still sees its whole window', async () => {
    const l = limiter();
    const quota = new Quota({ windowSeconds: 10, granularitySeconds: 1, limit: 10 });
    await l.checkAndUseQuotas([request('skew', 4, [quota])], 100.5);
    expect(await l.checkAndUseQuotas([request('skew', 1, [quota])], 110.1)).toEqual([
      grant('skew', 1, []),
    ]);
    // Another server, 0.3 s behind, is still in granule 109: granule 100 is in its window
    // (granule 110 is not).
    expect(await l.checkAndUseQuotas([request('skew', 10, [quota])], 109.8)).toEqual([
      grant('skew', 6, [quota], 0.2),
    ]);
  });

  it('checkWithinQuotas counts nothing; useQuotas counts what it is given', async () => {
    const l = limiter();
    const quota = new Quota({ windowSeconds: 60, granularitySeconds: 1, limit: 5 });
    const requests = [request('two-step', 4, [quota])];
    const [t1, first] = await l.checkWithinQuotas(requests, 1000);
    const [, again] = await l.checkWithinQuotas(requests, 1000);
    expect(first).toEqual([grant('two-step', 4, [])]);
    expect(again).toEqual(first);
    await l.useQuotas(requests, [{ ...first[0]!, granted: 3 }], t1);
    const [, after] = await l.checkWithinQuotas(requests, 1001);
    expect(after).toEqual([grant('two-step', 2, [quota], 59)]);
  });

  it("checkWithinQuotas without a timestamp returns the store's time, and useQuotas takes it", async () => {
    const l = limiter();
    const quota = new Quota({ windowSeconds: 60, granularitySeconds: 1, limit: 5 });
    const requests = [request('clock', 2, [quota])];
    const before = Date.now() / 1000;
    const [timestamp, grants] = await l.checkWithinQuotas(requests);
    expect(timestamp).toBeGreaterThan(before - 5);
    expect(timestamp).toBeLessThan(Date.now() / 1000 + 5);
    await l.useQuotas(requests, grants, timestamp);
    expect(await free(l, 'clock', quota, timestamp)).toBe(3);
    expect(await l.checkAndUseQuotas([request('clock', 5, [quota])])).toMatchObject([
      { granted: 3, reachedQuotas: [quota] },
    ]);
  });

  it('counts a grant once per window of a request, and earlier grants of the call count', async () => {
    const l = limiter();
    const quota = new Quota({ windowSeconds: 10, granularitySeconds: 1, limit: 10 });
    const twice = new Quota({ windowSeconds: 10, granularitySeconds: 1, limit: 10 });
    expect(
      await l.checkAndUseQuotas(
        [request('same', 4, [quota, twice]), request('same', 8, [quota])],
        T,
      ),
    ).toEqual([grant('same', 4, []), grant('same', 6, [quota], 10)]);
    expect(await free(l, 'same', quota, T)).toBe(0);
  });

  it('several requests per call, with per-prefix and shared quotas', async () => {
    const l = limiter();
    const own = new Quota({ windowSeconds: 10, granularitySeconds: 1, limit: 3 });
    const global = new Quota({
      windowSeconds: 60,
      granularitySeconds: 10,
      limit: 5,
      prefixOverride: 'global',
    });
    const call = (t: number) =>
      l.checkAndUseQuotas(
        [request('a', 2, [own, global]), request('b', 4, [own, global]), request('c', 1, [global])],
        t,
      );
    expect(await call(T)).toEqual([
      grant('a', 2, []),
      grant('b', 3, [own], 60),
      grant('c', 0, [global], 60),
    ]);
    expect(await free(l, 'a', own, T)).toBe(1);
    expect(await free(l, 'b', own, T)).toBe(0);
    expect(await free(l, 'anyone', global, T)).toBe(0);
  });

  it('an empty request list decides nothing', async () => {
    const l = limiter();
    const [timestamp, grants] = await l.checkWithinQuotas([], 123.5);
    expect([timestamp, grants]).toEqual([123.5, []]);
    expect(await l.checkAndUseQuotas([])).toEqual([]);
    const [now] = await l.checkWithinQuotas([]);
    expect(Math.abs(now - Date.now() / 1000)).toBeLessThan(5);
  });

  it('a requested 0 is granted 0 and reaches nothing', async () => {
    const l = limiter();
    const quota = new Quota({ windowSeconds: 10, granularitySeconds: 1, limit: 0 });
    expect(await l.checkAndUseQuotas([request('zero', 0, [quota])], T)).toEqual([
      grant('zero', 0, []),
    ]);
  });

  it('sub-second granules: 4 per second in quarter-second steps', async () => {
    const l = limiter();
    const quota = new Quota({ windowSeconds: 1, granularitySeconds: 0.25, limit: 4 });
    expect([...quota.iterWindow(10.6)]).toEqual([42, 41, 40, 39]);
    await l.checkAndUseQuotas([request('fine', 4, [quota])], 10.1);
    expect(await l.checkAndUseQuotas([request('fine', 1, [quota])], 10.5)).toEqual([
      grant('fine', 0, [quota], 0.5),
    ]);
    expect(await free(l, 'fine', quota, 10.9)).toBe(0);
    expect(await free(l, 'fine', quota, 11)).toBe(4);
  });

  it('prefixes with separators, percent signs and unicode stay apart and in one slot', async () => {
    const l = limiter();
    const quota = new Quota({ windowSeconds: 10, granularitySeconds: 1, limit: 1 });
    const prefixes = ['a:b', 'a%003ab', 'a', 'a:b:c', 'ü/ß', ' '];
    const grants = await l.checkAndUseQuotas(
      prefixes.map((p) => request(p, 1, [quota])),
      T,
    );
    expect(grants.map((g) => g.granted)).toEqual(prefixes.map(() => 1));
  });
});
