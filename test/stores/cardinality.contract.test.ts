import {
  type CardinalityGrant,
  CardinalityLimiter,
  type CardinalityRequest,
  cardinalityKey,
  InvalidConfiguration,
  Quota,
} from '@sluice/core';
import { STORE_KINDS, useStore } from '@sluice/test-support/stores';
import { describe, expect, it } from 'vitest';

/** Timestamps start here, as in the sliding-window suites. */
const T = 100;

const request = (prefix: string, values: string[], quota: Quota): CardinalityRequest => ({
  prefix,
  values,
  quota,
});

const grant = (
  prefix: string,
  grantedValues: string[],
  refusedValues: string[],
  cardinality: number,
  refusal?: { quota: Quota; retryAfter: number },
): CardinalityGrant =>
  refusal === undefined
    ? { prefix, grantedValues, refusedValues, cardinality }
    : {
        prefix,
        grantedValues,
        refusedValues,
        cardinality,
        reachedQuota: refusal.quota,
        retryAfter: refusal.retryAfter,
      };

describe.each(STORE_KINDS)('CardinalityLimiter on %s', (kind) => {
  const harness = useStore(kind);
  const limiter = () => new CardinalityLimiter(harness.store());
  const three = new Quota({ windowSeconds: 10, granularitySeconds: 1, limit: 3 });

  it('the example of docs/cardinality.md and the TSDoc', async () => {
    const l = limiter();
    const quota = new Quota({ windowSeconds: 3600, granularitySeconds: 60, limit: 2 });
    const [g] = await l.checkAndUseQuotas(
      [{ prefix: 'org:1', values: ['cpu', 'mem', 'disk', 'cpu'], quota }],
      T,
    );
    expect(g).toEqual(
      grant('org:1', ['cpu', 'mem', 'cpu'], ['disk'], 2, { quota, retryAfter: 3560 }),
    );
  });

  describe('upstream test vectors (sentry-redis-tools, check then use)', () => {
    const hourly = new Quota({ windowSeconds: 3600, granularitySeconds: 60, limit: 10 });
    /** Upstream's LimiterHelper: check, then use what was granted, at its own timestamp. */
    const helper = () => {
      const l = limiter();
      const h = {
        timestamp: 3600,
        async addValues(values: number[], prefix = 'hello'): Promise<number[]> {
          const requests = [request(prefix, values.map(String), hourly)];
          const [timestamp, grants] = await l.checkWithinQuotas(requests, h.timestamp);
          await l.useQuotas(requests, grants, timestamp);
          return grants[0]!.grantedValues.map(Number);
        },
        async addValue(value: number): Promise<number | null> {
          return (await h.addValues([value]))[0] ?? null;
        },
      };
      return h;
    };
    const range = (from: number, to: number) =>
      Array.from({ length: to - from }, (_, i) => from + i);

    it('basic: seen values are free, 8 more fit, and an hour later 10 new ones', async () => {
      const h = helper();
      for (let i = 0; i < 20; i++) expect(await h.addValue(1)).toBe(1);
      for (let i = 0; i < 20; i++) expect(await h.addValue(2)).toBe(2);
      const first: Array<number | null> = [];
      for (const i of range(10, 110)) first.push(await h.addValue(i));
      expect(first).toEqual([...range(10, 18), ...Array(92).fill(null)]);
      h.timestamp += 3600;
      const second: Array<number | null> = [];
      for (const i of range(10, 110)) second.push(await h.addValue(i));
      expect(second).toEqual([...range(10, 20), ...Array(90).fill(null)]);
    });

    it('sliding: one value every 6 minutes always fits; ten a minute, every tenth', async () => {
      const h = helper();
      const slow: Array<number | null> = [];
      for (const i of range(0, 100)) {
        slow.push(await h.addValue(i));
        h.timestamp += 360;
      }
      expect(slow).toEqual(range(0, 100));
      const fast: Array<number | null> = [];
      for (const i of range(100, 200)) {
        fast.push(await h.addValue(i));
        h.timestamp += 36;
      }
      expect(fast).toEqual(range(100, 200).map((i) => (i % 10 === 0 ? i : null)));
    });

    it('regression, mixed order: values after a refused one are still decided', async () => {
      const h = helper();
      expect(await h.addValue(5)).toBe(5);
      expect(await h.addValues([0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 5])).toEqual([
        0, 1, 2, 3, 4, 6, 7, 8, 9, 5,
      ]);
    });

    it('multiple prefixes share no state', async () => {
      const l = limiter();
      const call = async (values: number[][]) => {
        const requests = ['a', 'b', 'c'].map((prefix, i) =>
          request(prefix, values[i]!.map(String), hourly),
        );
        const [timestamp, grants] = await l.checkWithinQuotas(requests);
        await l.useQuotas(requests, grants, timestamp);
        return grants.map((g) => [g.grantedValues.map(Number), g.reachedQuota ?? null]);
      };
      expect(await call([range(1, 6), range(1, 12), range(11, 21)])).toEqual([
        [range(1, 6), null],
        [range(1, 11), hourly],
        [range(11, 21), null],
      ]);
      expect(await call([range(6, 12), range(1, 12), range(11, 22)])).toEqual([
        [range(6, 11), hourly],
        [range(1, 11), hourly],
        [range(11, 21), hourly],
      ]);
    });
  });

  it('admits up to limit distinct values, then only the values it already tracks', async () => {
    const l = limiter();
    expect(await l.checkAndUseQuotas([request('org:1', ['a', 'b'], three)], T)).toEqual([
      grant('org:1', ['a', 'b'], [], 2),
    ]);
    expect(await l.checkAndUseQuotas([request('org:1', ['c', 'd', 'a', 'e'], three)], T)).toEqual([
      grant('org:1', ['c', 'a'], ['d', 'e'], 3, { quota: three, retryAfter: 10 }),
    ]);
    // Seen values pass however far past the limit; new ones keep being refused.
    expect(await l.checkAndUseQuotas([request('org:1', ['b', 'f', 'c'], three)], T + 5)).toEqual([
      grant('org:1', ['b', 'c'], ['f'], 3, { quota: three, retryAfter: 5 }),
    ]);
  });

  it('a value repeated in one request is one value', async () => {
    const l = limiter();
    const one = new Quota({ windowSeconds: 10, granularitySeconds: 1, limit: 1 });
    expect(await l.checkAndUseQuotas([request('p', ['x', 'x', 'y', 'x'], one)], T)).toEqual([
      grant('p', ['x', 'x', 'x'], ['y'], 1, { quota: one, retryAfter: 10 }),
    ]);
  });

  it('the window slides: a value leaves with the granule of its latest admission', async () => {
    const l = limiter();
    for (const [t, value] of [
      [T, 'a'],
      [T + 1, 'b'],
      [T + 2, 'c'],
    ] as const) {
      expect(
        (await l.checkAndUseQuotas([request('s', [value], three)], t))[0]!.refusedValues,
      ).toEqual([]);
    }
    // a leaves at granule T + 10.
    expect(await l.checkAndUseQuotas([request('s', ['d'], three)], T + 5)).toEqual([
      grant('s', [], ['d'], 3, { quota: three, retryAfter: 5 }),
    ]);
    // b is seen again at T + 6: it now stays until T + 16.
    expect(await l.checkAndUseQuotas([request('s', ['b'], three)], T + 6.5)).toEqual([
      grant('s', ['b'], [], 3),
    ]);
    expect(await l.checkAndUseQuotas([request('s', ['d', 'a'], three)], T + 10)).toEqual([
      grant('s', ['d'], ['a'], 3, { quota: three, retryAfter: 2 }),
    ]);
    // c left at T + 12; b (T + 6) and d (T + 10) remain.
    expect(await l.checkAndUseQuotas([request('s', ['a', 'e'], three)], T + 12.25)).toEqual([
      grant('s', ['a'], ['e'], 3, { quota: three, retryAfter: 3.75 }),
    ]);
    // Long after: everything left, the window starts empty.
    expect(await l.checkAndUseQuotas([request('s', ['x', 'y', 'z', 'w'], three)], T + 60)).toEqual([
      grant('s', ['x', 'y', 'z'], ['w'], 3, { quota: three, retryAfter: 10 }),
    ]);
  });

  it('granularity equal to the window: the values reset at each window start', async () => {
    const l = limiter();
    const fixed = new Quota({ windowSeconds: 60, granularitySeconds: 60, limit: 2 });
    expect(await l.checkAndUseQuotas([request('f', ['a', 'b', 'c'], fixed)], 120)).toEqual([
      grant('f', ['a', 'b'], ['c'], 2, { quota: fixed, retryAfter: 60 }),
    ]);
    expect(await l.checkAndUseQuotas([request('f', ['c'], fixed)], 179.5)).toEqual([
      grant('f', [], ['c'], 2, { quota: fixed, retryAfter: 0.5 }),
    ]);
    expect(await l.checkAndUseQuotas([request('f', ['c', 'd', 'a'], fixed)], 180)).toEqual([
      grant('f', ['c', 'd'], ['a'], 2, { quota: fixed, retryAfter: 60 }),
    ]);
  });

  it('scopes, and windows of one scope, are independent; grants come back in request order', async () => {
    const l = limiter();
    const hour = new Quota({ windowSeconds: 3600, granularitySeconds: 60, limit: 1 });
    const grants = await l.checkAndUseQuotas(
      [
        request('org:1', ['a', 'b', 'c', 'd'], three),
        request('org:2', ['a', 'b', 'c', 'd'], three),
        // T is in the granule [60, 120) of the hour: z leaves at 3660.
        request('org:1', ['z', 'a'], hour),
        request('org:1', ['e', 'a'], three),
      ],
      T,
    );
    expect(grants).toEqual([
      grant('org:1', ['a', 'b', 'c'], ['d'], 3, { quota: three, retryAfter: 10 }),
      grant('org:2', ['a', 'b', 'c'], ['d'], 3, { quota: three, retryAfter: 10 }),
      grant('org:1', ['z'], ['a'], 1, { quota: hour, retryAfter: 3560 }),
      grant('org:1', ['a'], ['e'], 3, { quota: three, retryAfter: 10 }),
    ]);
  });

  it('reset forgets the values of one window of one scope, at the store time', async () => {
    const l = limiter();
    const hour = new Quota({ windowSeconds: 3600, granularitySeconds: 60, limit: 3 });
    const tenMinutes = new Quota({ windowSeconds: 600, granularitySeconds: 60, limit: 3 });
    const now = Date.now() / 1000;
    await l.checkAndUseQuotas(
      [
        request('r', ['a', 'b', 'c'], hour),
        request('r', ['a', 'b'], tenMinutes),
        request('q', ['a'], hour),
      ],
      now,
    );
    expect(await l.reset('r', hour)).toBe(3);
    expect(await l.reset('r', hour)).toBe(0);
    const [r, r10, q] = await l.checkAndUseQuotas([
      request('r', ['x', 'y', 'z', 'w'], hour),
      request('r', ['c', 'd', 'e'], tenMinutes),
      request('q', ['a'], hour),
    ]);
    expect([r!.grantedValues, r10!.grantedValues, q!.grantedValues]).toEqual([
      ['x', 'y', 'z'],
      ['c'],
      ['a'],
    ]);
    // The values tracked at the store time: none left an hour window admitted at `now`.
    expect(await l.reset('r', tenMinutes)).toBe(3);
    await expect(l.reset('a{b', hour)).rejects.toMatchObject({ option: 'prefix' });
    await expect(
      l.reset('r', { windowSeconds: 60, granularitySeconds: 7, limit: 1 } as never),
    ).rejects.toMatchObject({ option: 'quota.windowSeconds' });
  });

  it('a late call (an earlier timestamp) counts the values admitted after it', async () => {
    const l = limiter();
    await l.checkAndUseQuotas([request('late', ['a', 'b'], three)], T + 5);
    // At T + 2 the later admissions count: c fits, d does not, b is tracked (and stays at T + 5).
    expect(await l.checkAndUseQuotas([request('late', ['c', 'd', 'b'], three)], T + 2)).toEqual([
      grant('late', ['c', 'b'], ['d'], 3, { quota: three, retryAfter: 10 }),
    ]);
    // c was admitted at T + 2 and leaves at T + 12; a and b at T + 15.
    expect(await l.checkAndUseQuotas([request('late', ['d'], three)], T + 11)).toEqual([
      grant('late', [], ['d'], 3, { quota: three, retryAfter: 1 }),
    ]);
    expect(await l.checkAndUseQuotas([request('late', ['d', 'e'], three)], T + 12)).toEqual([
      grant('late', ['d'], ['e'], 3, { quota: three, retryAfter: 3 }),
    ]);
  });

  it('a limit of 0 refuses every value for good', async () => {
    const l = limiter();
    const none = new Quota({ windowSeconds: 5, granularitySeconds: 1, limit: 0 });
    expect(await l.checkAndUseQuotas([request('z', ['a'], none)], T)).toEqual([
      grant('z', [], ['a'], 0, { quota: none, retryAfter: Number.POSITIVE_INFINITY }),
    ]);
    expect(await harness.keyCount(l.store)).toBe(0);
  });

  it('no values and no requests', async () => {
    const l = limiter();
    expect(await l.checkAndUseQuotas([request('e', [], three)], T)).toEqual([
      grant('e', [], [], 0),
    ]);
    expect(await l.checkAndUseQuotas([], T)).toEqual([]);
    const [timestamp, grants] = await l.checkWithinQuotas([]);
    expect(grants).toEqual([]);
    expect(Math.abs(timestamp - Date.now() / 1000)).toBeLessThan(5);
  });

  it('check records nothing; use records what the work used, refusing none', async () => {
    const l = limiter();
    const requests = [request('org:9', ['a', 'b', 'c', 'd', 'a'], three)];
    const [timestamp, grants] = await l.checkWithinQuotas(requests, T);
    expect(timestamp).toBe(T);
    expect(grants).toEqual([
      grant('org:9', ['a', 'b', 'c', 'a'], ['d'], 3, { quota: three, retryAfter: 10 }),
    ]);
    expect(await harness.keyCount(l.store)).toBe(0);
    // Only 'b' was written: it is tracked (and, admitted again at T + 1, stays until T + 11),
    // the others are new again.
    await l.useQuotas(requests, [{ ...grants[0]!, grantedValues: ['b'] }], timestamp);
    expect(
      await l.checkAndUseQuotas([request('org:9', ['x', 'y', 'b', 'z'], three)], T + 1),
    ).toEqual([grant('org:9', ['x', 'y', 'b'], ['z'], 3, { quota: three, retryAfter: 10 })]);
    // use never refuses: a check's grant is recorded even past the limit.
    await l.useQuotas(requests, [{ ...grants[0]!, grantedValues: ['c'] }], T + 1);
    const [, [after]] = await l.checkWithinQuotas([request('org:9', ['c'], three)], T + 1);
    expect(after).toEqual(grant('org:9', ['c'], [], 4));
  });

  it('the store time decides when no timestamp is given', async () => {
    const l = limiter();
    const [timestamp, [g]] = await l.checkWithinQuotas([request('now', ['a'], three)]);
    expect(Math.abs(timestamp - Date.now() / 1000)).toBeLessThan(5);
    expect(g).toEqual(grant('now', ['a'], [], 1));
    await l.useQuotas([request('now', ['a'], three)], [g!], timestamp);
    expect((await l.checkAndUseQuotas([request('now', ['b', 'c', 'd'], three)]))[0]).toEqual(
      grant('now', ['b', 'c'], ['d'], 3, { quota: three, retryAfter: expect.any(Number) as never }),
    );
  });

  it('keys carry the scope as hash tag and expire when the newest value leaves the window', async () => {
    const l = limiter();
    const store = l.store;
    await l.checkAndUseQuotas([request('org:7 a', ['a'], three)], T + 0.25);
    await l.checkAndUseQuotas([request('org:7 a', ['b'], three)], T + 3.5);
    const key = cardinalityKey(store.prefix, 'org:7 a', three);
    expect(key).toBe(`${store.prefix}:card:{org%003a7%0020a}:10000:1000`);
    // b leaves at granule T + 13, 9.5 s after the decision's time T + 3.5.
    const pttl = await harness.pttl(store, key);
    expect(pttl).toBeGreaterThan(9_000);
    expect(pttl).toBeLessThanOrEqual(9_500);
    expect(await harness.keyCount(store)).toBe(1);
  });

  it('one request of many values is one atomic step', async () => {
    const l = limiter();
    const big = new Quota({ windowSeconds: 60, granularitySeconds: 1, limit: 2_500 });
    const values = Array.from({ length: 3_000 }, (_, i) => `metric.${i}`);
    const [g] = await l.checkAndUseQuotas([request('many', values, big)], T);
    expect(g!.grantedValues).toEqual(values.slice(0, 2_500));
    expect(g!.refusedValues).toEqual(values.slice(2_500));
    expect(g!.cardinality).toBe(2_500);
    const [again] = await l.checkAndUseQuotas([request('many', [...values].reverse(), big)], T + 1);
    expect(again!.grantedValues).toEqual(values.slice(0, 2_500).reverse());
  });

  it('concurrent calls never admit more than limit distinct values', async () => {
    const store = harness.store();
    const limiters = [new CardinalityLimiter(store), new CardinalityLimiter(store)];
    const quota = new Quota({ windowSeconds: 60, granularitySeconds: 1, limit: 10 });
    const calls = Array.from({ length: 40 }, (_, i) =>
      limiters[i % 2]!.checkAndUseQuotas([
        request(
          i % 4 === 0 ? 'other' : 'hot',
          Array.from({ length: 4 }, (_, j) => `v${(i * 7 + j * 13) % 50}`),
          quota,
        ),
      ]),
    );
    const grants = (await Promise.all(calls)).flat();
    for (const scope of ['hot', 'other']) {
      const admitted = new Set(
        grants.filter((g) => g.prefix === scope).flatMap((g) => g.grantedValues),
      );
      expect(admitted.size, scope).toBe(10);
      const maxSeen = Math.max(
        ...grants.filter((g) => g.prefix === scope).map((g) => g.cardinality),
      );
      expect(maxSeen, scope).toBe(10);
    }
  });

  it('rejects bad requests, grants and timestamps with InvalidConfiguration naming them', async () => {
    const l = limiter();
    const bad = async (call: () => Promise<unknown>, option: string) => {
      const error = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, option).toBeInstanceOf(InvalidConfiguration);
      expect((error as InvalidConfiguration).option).toBe(option);
    };
    await bad(() => l.checkAndUseQuotas('x' as never), 'requests');
    await bad(() => l.checkAndUseQuotas([null as never]), 'requests[0]');
    await bad(() => l.checkAndUseQuotas([request('a{b', ['v'], three)]), 'requests[0].prefix');
    await bad(() => l.checkAndUseQuotas([request('', ['v'], three)]), 'requests[0].prefix');
    await bad(
      () => l.checkAndUseQuotas([request('a', ['v'], three), request('b', 'v' as never, three)]),
      'requests[1].values',
    );
    await bad(
      () => l.checkAndUseQuotas([request('a', ['v', 7 as never], three)]),
      'requests[0].values[1]',
    );
    await bad(
      () => l.checkAndUseQuotas([{ ...request('a', ['v'], three), value: ['w'] } as never]),
      'requests[0].value',
    );
    await bad(
      () => l.checkAndUseQuotas([request('a', ['v'], undefined as never)]),
      'requests[0].quota',
    );
    await bad(
      () =>
        l.checkAndUseQuotas([
          request(
            'a',
            ['v'],
            new Quota({ windowSeconds: 10, granularitySeconds: 1, limit: 3, prefixOverride: 'g' }),
          ),
        ]),
      'requests[0].quota.prefixOverride',
    );
    await bad(
      () =>
        l.checkAndUseQuotas([
          request('a', ['v'], { windowSeconds: 10, granularitySeconds: 3, limit: 3 } as never),
        ]),
      'requests[0].quota.windowSeconds',
    );
    await bad(
      () =>
        l.checkAndUseQuotas([
          request('a', ['v'], { windowSeconds: 10, granularitySeconds: 1, limit: -1 } as never),
        ]),
      'requests[0].quota.limit',
    );
    await bad(() => l.checkAndUseQuotas([request('a', ['v'], three)], Date.now()), 'timestamp');
    const requests = [request('a', ['v', 'w'], three)];
    const [timestamp, grants] = await l.checkWithinQuotas(requests, T);
    await bad(() => l.useQuotas(requests, [], timestamp), 'grants');
    await bad(
      () => l.useQuotas(requests, [{ ...grants[0]!, prefix: 'b' }], timestamp),
      'grants[0]',
    );
    await bad(
      () => l.useQuotas(requests, [{ ...grants[0]!, grantedValues: ['v', 'x'] }], timestamp),
      'grants[0].grantedValues[1]',
    );
    await bad(() => l.useQuotas(requests, grants, undefined as never), 'timestamp');
    expect(() => new CardinalityLimiter({} as never)).toThrow(InvalidConfiguration);
    expect(await harness.keyCount(l.store)).toBe(0);
  });
});
