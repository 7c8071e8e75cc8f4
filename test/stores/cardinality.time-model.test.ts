import { type CardinalityGrant, CardinalityLimiter, Quota, type Store } from '@sluice/core';
import {
  expectModel,
  ManualClock,
  manualTimeline,
  memoryStoreOn,
  periodicBoundaries,
  realTimeline,
  runAllSettled,
  type Timeline,
} from '@sluice/test-support/models';
import { useStore } from '@sluice/test-support/stores';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CardinalityModel,
  type ModelCardinalityGrant,
  type ModelCardinalityRequest,
} from './cardinality-model.js';

/**
 * The cardinality limiter while time passes: random calls (check and use at once, check only,
 * or check then use part of the grant) of one to three requests over a few scopes and a small
 * pool of values, with idle gaps longer than every window between phases, so windows empty,
 * their keys expire and are written again. No call passes a timestamp: on memory the store's
 * injected clock decides and expires, on Redis its `TIME`. Every grant is compared with
 * {@link CardinalityModel}, and the distinct values admitted in any window, read from the
 * answers alone, never exceed its limit.
 */

const SEED = 20_261_201;

/** Windows for memory: 0.5 s to an hour, two sharing one window, one that admits nothing. */
const MEMORY_POOL = [
  new Quota({ windowSeconds: 1, granularitySeconds: 1, limit: 2 }),
  new Quota({ windowSeconds: 10, granularitySeconds: 1, limit: 4 }),
  new Quota({ windowSeconds: 10, granularitySeconds: 1, limit: 2 }),
  new Quota({ windowSeconds: 6, granularitySeconds: 2, limit: 3 }),
  new Quota({ windowSeconds: 2, granularitySeconds: 0.5, limit: 3 }),
  new Quota({ windowSeconds: 3600, granularitySeconds: 60, limit: 5 }),
  new Quota({ windowSeconds: 5, granularitySeconds: 1, limit: 0 }),
];

/** Windows for Redis: 1-2 s, whole-second granules, so every boundary falls on a second. */
const REDIS_POOL = [
  new Quota({ windowSeconds: 1, granularitySeconds: 1, limit: 2 }),
  new Quota({ windowSeconds: 2, granularitySeconds: 1, limit: 3 }),
  new Quota({ windowSeconds: 2, granularitySeconds: 1, limit: 2 }),
];

const VALUES = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];

type Mode = 'checkAndUse' | 'check' | 'checkThenUse';

interface Call {
  mode: Mode;
  requests: Array<{ prefix: string; values: string[]; quota: number; use: number }>;
}

type Step = { op: 'call'; call: Call } | { op: 'pass'; ms: number };

interface Sequence {
  startMs: number;
  phases: Step[][];
}

function sequences(options: {
  pool: readonly Quota[];
  maxRequests: number;
  passMs: fc.Arbitrary<number>;
  /** Weight of an idle step against a call's 3. */
  passWeight: number;
  /** Most values per request. */
  maxValues: number;
  /** Steps per phase. */
  steps: { min: number; max: number };
  phases: number;
}): fc.Arbitrary<Sequence> {
  const call = fc.record({
    mode: fc.constantFrom<Mode>(
      'checkAndUse',
      'checkAndUse',
      'checkAndUse',
      'check',
      'checkThenUse',
    ),
    requests: fc.array(
      fc.record({
        prefix: fc.constantFrom('a', 'b'),
        values: fc.array(fc.constantFrom(...VALUES), { maxLength: options.maxValues }),
        quota: fc.integer({ min: 0, max: options.pool.length - 1 }),
        use: fc.integer({ min: 0, max: 5 }),
      }),
      { minLength: 1, maxLength: options.maxRequests },
    ),
  });
  const step: fc.Arbitrary<Step> = fc.oneof(
    { weight: 3, arbitrary: fc.record({ op: fc.constant('call' as const), call }) },
    {
      weight: options.passWeight,
      arbitrary: fc.record({ op: fc.constant('pass' as const), ms: options.passMs }),
    },
  );
  return fc.record({
    startMs: fc.integer({ min: 0, max: 3_600_000 }),
    phases: fc.array(
      fc.array(step, { minLength: options.steps.min, maxLength: options.steps.max }),
      {
        minLength: 2,
        maxLength: options.phases,
      },
    ),
  });
}

/** The store's grant in the model's terms; a retry within `slackMs` before the model's is the model's. */
function observed(
  grant: CardinalityGrant,
  expected: ModelCardinalityGrant,
  slackMs: number,
): ModelCardinalityGrant {
  const out: ModelCardinalityGrant = {
    grantedValues: grant.grantedValues,
    refusedValues: grant.refusedValues,
    cardinality: grant.cardinality,
  };
  if (grant.retryAfter !== undefined) {
    const actual = Number.isFinite(grant.retryAfter)
      ? Math.round(grant.retryAfter * 1000)
      : grant.retryAfter;
    const model = expected.retryAfterMs;
    out.retryAfterMs =
      model !== undefined && actual >= model - slackMs && actual <= model ? model : actual;
  }
  return out;
}

/** The largest limit among the quotas of `pool` that share `quota`'s window (and key). */
function sharedLimit(pool: readonly Quota[], quota: Quota): number {
  return Math.max(
    ...pool
      .filter(
        (q) =>
          q.windowSeconds === quota.windowSeconds &&
          q.granularitySeconds === quota.granularitySeconds,
      )
      .map((q) => q.limit),
  );
}

async function runSequence(
  s: Sequence,
  pool: readonly Quota[],
  store: Store,
  time: Timeline,
  afterIdle: () => Promise<void>,
): Promise<{ compared: number; crossed: number }> {
  const limiter = new CardinalityLimiter(store);
  const model = new CardinalityModel();
  /** Admissions read from the store's answers alone. */
  const answered = new CardinalityModel();
  const boundaries = periodicBoundaries(pool.map((q) => ({ periodMs: q.granularityMs })));
  const idleMs = Math.max(...pool.map((q) => q.windowSeconds * 1000)) + 300;
  let compared = 0;
  let crossed = 0;
  for (const [phaseIndex, phase] of s.phases.entries()) {
    if (phaseIndex > 0) {
      await time.pass(idleMs);
      await afterIdle();
    }
    for (const [i, step] of phase.entries()) {
      const where = `phase ${phaseIndex} step ${i} ${JSON.stringify(step)}`;
      if (step.op === 'pass') {
        await time.pass(step.ms);
        continue;
      }
      const { mode } = step.call;
      const requests: ModelCardinalityRequest[] = step.call.requests.map((r) => ({
        prefix: r.prefix,
        values: r.values,
        quota: pool[r.quota]!,
      }));
      const mutable = requests.map((r) => ({ ...r, values: [...r.values] }));
      const timed = await time.step(async () => {
        if (mode === 'checkAndUse') return { grants: await limiter.checkAndUseQuotas(mutable) };
        const [timestamp, grants] = await limiter.checkWithinQuotas(mutable);
        if (mode === 'check') return { grants };
        const used = grants.map((g, k) => ({
          ...g,
          grantedValues: g.grantedValues.slice(0, step.call.requests[k]!.use),
        }));
        await limiter.useQuotas(mutable, used, timestamp);
        return { grants, used };
      }, boundaries);
      if (timed.crossed !== undefined) {
        crossed++;
        await time.pass(idleMs);
        await afterIdle();
        continue;
      }
      compared++;
      const { fromMs, toMs } = timed;
      const { grants, used } = timed.value;
      const expected = model.decide(
        requests,
        fromMs,
        mode === 'checkAndUse' ? 'checkAndUse' : 'check',
      );
      expectModel(
        grants.map((g, k) => observed(g, expected[k]!, toMs + 1 - fromMs)),
        expected,
        `${where} at ${fromMs}`,
      );
      const recorded =
        mode === 'checkAndUse' ? grants : mode === 'checkThenUse' ? (used ?? []) : [];
      recorded.forEach((g, k) => {
        if (mode !== 'checkAndUse') model.use(requests[k]!, g.grantedValues, fromMs);
        answered.use(requests[k]!, g.grantedValues, fromMs);
      });
      // Quotas of one window length and granularity share the scope's values: the most any
      // admitted into it is the largest of their limits.
      const broken = requests
        .map((r) => ({
          r,
          tracked: answered.tracked(r, fromMs).size,
          limit: sharedLimit(pool, r.quota),
        }))
        .filter(({ tracked, limit }) => tracked > limit)
        .map(
          ({ r, tracked, limit }) => `${r.prefix}: ${tracked} values in a window of limit ${limit}`,
        );
      expectModel(broken, [], where);
    }
  }
  return { compared, crossed };
}

describe('CardinalityLimiter as time passes, against the model', () => {
  it('on memory, the injected clock deciding and expiring: 250 sequences', async () => {
    const arbitrary = sequences({
      pool: MEMORY_POOL,
      maxRequests: 3,
      passMs: fc.oneof(
        fc.constantFrom(0, 1, 499, 500, 999, 1000, 2000, 10_000, 60_000),
        fc.integer({ min: 0, max: 3000 }),
      ),
      passWeight: 1,
      maxValues: 5,
      steps: { min: 1, max: 12 },
      phases: 4,
    });
    await fc.assert(
      fc.asyncProperty(arbitrary, async (s) => {
        const clock = new ManualClock(Date.UTC(2026, 0, 1) + s.startMs);
        const store = memoryStoreOn(clock);
        await runSequence(s, MEMORY_POOL, store, manualTimeline(clock), async () => {});
      }),
      { seed: SEED, numRuns: 250 },
    );
  });

  // Real time passes for the Redis and the Cluster sequences together.
  describe.concurrent.each(['redis', 'cluster'] as const)('on %s, in real time', (kind) => {
    const harness = useStore(kind);
    it('10 sequences at once, 1-2 s windows: expired windows leave Redis', async () => {
      const arbitrary = sequences({
        pool: REDIS_POOL,
        maxRequests: 3,
        // Idle steps of up to a second, often, so a phase spans several granules.
        passMs: fc.constantFrom(200, 500, 1000, 1000),
        passWeight: 2,
        maxValues: 2,
        steps: { min: 8, max: 10 },
        phases: 2,
      });
      let compared = 0;
      let crossed = 0;
      await runAllSettled(fc.sample(arbitrary, { seed: SEED, numRuns: 10 }), async (s) => {
        const store = harness.store();
        const time = realTimeline({ marginMs: 300 });
        const counts = await runSequence(s, REDIS_POOL, store, time, async () => {
          expect(await harness.keyCount(store), 'keys left after the idle gap').toBe(0);
        });
        compared += counts.compared;
        crossed += counts.crossed;
      });
      expect(compared, `steps compared (${crossed} ran across a granule start)`).toBeGreaterThan(
        crossed,
      );
    });
  });
});
