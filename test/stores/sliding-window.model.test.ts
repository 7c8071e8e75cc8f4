import {
  type GrantedQuota,
  Quota,
  type RequestedQuota,
  SlidingWindowRateLimiter,
} from '@sluice/core';
import { STORE_KINDS, useStore } from '@sluice/test-support/stores';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

/**
 * The limiter against a naive model of DESIGN 2.2: every granule ever counted is kept in a list
 * and the window's usage is summed from it on every call, as upstream does with a key per
 * granule. Time moves forward by steps from none to far past a window, so the script's
 * pruning, expiry by deletion and in-call sharing are all exercised; each call may also come
 * from a clock up to 0.9 s late (less than a granule), which must not change any answer.
 */

const POOL = [
  new Quota({ windowSeconds: 10, granularitySeconds: 1, limit: 5 }),
  new Quota({ windowSeconds: 10, granularitySeconds: 5, limit: 8 }),
  new Quota({ windowSeconds: 6, granularitySeconds: 2, limit: 3 }),
  new Quota({ windowSeconds: 30, granularitySeconds: 10, limit: 12, prefixOverride: 'g' }),
  new Quota({ windowSeconds: 20, granularitySeconds: 1, limit: 0 }),
];

type Mode = 'checkAndUse' | 'check' | 'use';
interface Step {
  advance: number;
  late: number;
  mode: Mode;
  requests: Array<{ prefix: string; requested: number; quotas: number[]; used: number }>;
}

/** Granule -> units, per window (tag, window, granularity). */
type Windows = Map<string, Map<number, number>>;

const windowId = (prefix: string, q: Quota) =>
  `${q.prefixOverride ?? prefix}|${q.windowSeconds}|${q.granularitySeconds}`;

function usage(w: Map<number, number> | undefined, c: number, n: number): number {
  let used = 0;
  for (const [g, units] of w ?? []) if (g > c - n && g <= c) used += units;
  return used;
}

function add(windows: Windows, id: string, g: number, units: number): void {
  const w = windows.get(id) ?? new Map<number, number>();
  windows.set(id, w);
  w.set(g, (w.get(g) ?? 0) + units);
}

function retryMs(w: Map<number, number> | undefined, q: Quota, c: number, nowMs: number): number {
  const n = q.granulesPerWindow;
  const used = usage(w, c, n);
  if (used < q.limit) return 0;
  if (q.limit === 0) return -1;
  let total = 0;
  const held = [...(w ?? [])].filter(([g]) => g > c - n && g <= c).sort((a, b) => a[0] - b[0]);
  for (const [g, units] of held) {
    total += units;
    if (total >= used - q.limit + 1) return Math.ceil((g + n) * q.granularityMs - nowMs);
  }
  throw new Error('unreachable');
}

/** The model's answer to one decision at `t`; counts into `windows` when `consume`. */
function modelDecide(
  windows: Windows,
  requests: RequestedQuota[],
  t: number,
  consume: boolean,
): GrantedQuota[] {
  const work: Windows = new Map([...windows].map(([id, w]) => [id, new Map(w)]));
  const grants = requests.map((r) => {
    let granted = r.requested;
    const reached: Quota[] = [];
    for (const q of r.quotas) {
      const c = q.granuleAt(t);
      const remaining = Math.max(
        0,
        q.limit - usage(work.get(windowId(r.prefix, q)), c, q.granulesPerWindow),
      );
      if (remaining < granted) {
        granted = remaining;
        reached.push(q);
      }
    }
    for (const id of new Set(r.quotas.map((q) => windowId(r.prefix, q)))) {
      const q = r.quotas.find((x) => windowId(r.prefix, x) === id)!;
      add(work, id, q.granuleAt(t), granted);
    }
    const grant: GrantedQuota = { prefix: r.prefix, granted, reachedQuotas: reached };
    if (granted < r.requested) {
      let ms = 0;
      for (const q of r.quotas) {
        const one = retryMs(work.get(windowId(r.prefix, q)), q, q.granuleAt(t), t * 1000);
        ms = one < 0 || ms < 0 ? -1 : Math.max(ms, one);
      }
      grant.retryAfter = ms < 0 ? Number.POSITIVE_INFINITY : ms / 1000;
    }
    return grant;
  });
  if (consume) for (const [id, w] of work) windows.set(id, w);
  return grants;
}

function modelUse(windows: Windows, requests: RequestedQuota[], units: number[], t: number): void {
  requests.forEach((r, i) => {
    for (const id of new Set(r.quotas.map((q) => windowId(r.prefix, q)))) {
      const q = r.quotas.find((x) => windowId(r.prefix, x) === id)!;
      if (units[i]! > 0) add(windows, id, q.granuleAt(t), units[i]!);
    }
  });
}

const step = (maxRequests: number) =>
  fc.record({
    advance: fc.constantFrom(0, 0, 0.3, 1, 2.5, 4.999, 7, 40),
    late: fc.constantFrom(0, 0, 0.3, 0.9),
    mode: fc.constantFrom<Mode>('checkAndUse', 'checkAndUse', 'check', 'use'),
    requests: fc.array(
      fc.record({
        prefix: fc.constantFrom('a', 'b'),
        requested: fc.integer({ min: 0, max: 7 }),
        quotas: fc.uniqueArray(fc.integer({ min: 0, max: POOL.length - 1 }), {
          minLength: 1,
          maxLength: 3,
        }),
        used: fc.integer({ min: 0, max: 7 }),
      }),
      { minLength: 1, maxLength: maxRequests },
    ),
  });

describe.each(STORE_KINDS)('SlidingWindowRateLimiter agrees with the naive model on %s', (kind) => {
  const harness = useStore(kind);

  it('random calls with time moving forward, from clocks up to 0.9 s late', async () => {
    // On a Cluster, a call whose windows span hash slots is decided slot by slot: exact for one
    // request per call (its retryAfter may only be later); several requests could be under-granted.
    const clustered = kind === 'cluster' || kind === 'node-redis-cluster';
    const maxRequests = clustered ? 1 : 3;
    await fc.assert(
      fc.asyncProperty(
        fc.array(step(maxRequests), { minLength: 1, maxLength: 16 }),
        async (steps: Step[]) => {
          const limiter = new SlidingWindowRateLimiter(harness.store());
          const windows: Windows = new Map();
          let newest = 1_000_000;
          for (const s of steps) {
            newest += s.advance;
            const t = newest - s.late;
            const requests: RequestedQuota[] = s.requests.map((r) => ({
              prefix: r.prefix,
              requested: r.requested,
              quotas: r.quotas.map((i) => POOL[i]!),
            }));
            if (s.mode === 'use') {
              const units = s.requests.map((r) => Math.min(r.used, r.requested));
              const grants = requests.map((r, i) => ({
                prefix: r.prefix,
                granted: units[i]!,
                reachedQuotas: [],
              }));
              await limiter.useQuotas(requests, grants, t);
              modelUse(windows, requests, units, t);
              continue;
            }
            const consume = s.mode === 'checkAndUse';
            const expected = modelDecide(windows, requests, t, consume);
            const actual = consume
              ? await limiter.checkAndUseQuotas(requests, t)
              : (await limiter.checkWithinQuotas(requests, t))[1];
            if (clustered) {
              expect(actual.map(({ retryAfter, ...g }) => g)).toEqual(
                expected.map(({ retryAfter, ...g }) => g),
              );
              actual.forEach((g, i) => {
                expect(g.retryAfter === undefined).toBe(expected[i]!.retryAfter === undefined);
                if (g.retryAfter !== undefined) {
                  expect(g.retryAfter).toBeGreaterThanOrEqual(expected[i]!.retryAfter!);
                }
              });
            } else {
              expect(actual).toEqual(expected);
            }
          }
        },
      ),
      { numRuns: kind === 'memory' ? 1000 : 400, seed: 20_241_122 },
    );
  });
});
