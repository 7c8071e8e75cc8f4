import {
  type GrantedQuota,
  Quota,
  type RequestedQuota,
  SlidingWindowRateLimiter,
  type Store,
} from '@sluice/core';
import {
  expectModel,
  ManualClock,
  type ModelGrant,
  manualTimeline,
  memoryStoreOn,
  periodicBoundaries,
  realTimeline,
  runAllSettled,
  SlidingWindowModel,
  type Timeline,
} from '@sluice/test-support/models';
import { useStore } from '@sluice/test-support/stores';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

/**
 * Sliding windows while time passes: random calls (check and use at once, check only, or check
 * then use part of the grant) of one to three requests, with idle gaps longer than every window
 * between phases, so windows empty, their keys expire and are written again. No call passes a
 * timestamp: on memory the store's injected clock decides and expires, on Redis its `TIME`.
 * Every grant is compared with {@link SlidingWindowModel}, and the units granted in any window,
 * read from the answers alone, never exceed its limit.
 */

const SEED = 20_261_201;

/** Windows for memory: 0.5 s to an hour, one shared by every prefix, one that grants nothing. */
const MEMORY_POOL = [
  new Quota({ windowSeconds: 1, granularitySeconds: 1, limit: 2 }),
  new Quota({ windowSeconds: 10, granularitySeconds: 1, limit: 5 }),
  new Quota({ windowSeconds: 6, granularitySeconds: 2, limit: 3 }),
  new Quota({ windowSeconds: 2, granularitySeconds: 0.5, limit: 3 }),
  new Quota({ windowSeconds: 60, granularitySeconds: 10, limit: 8, prefixOverride: 'shared' }),
  new Quota({ windowSeconds: 3600, granularitySeconds: 60, limit: 12 }),
  new Quota({ windowSeconds: 5, granularitySeconds: 1, limit: 0 }),
];

/** Windows for Redis: 1-2 s, whole-second granules, so every boundary falls on a second. */
const REDIS_POOL = [
  new Quota({ windowSeconds: 1, granularitySeconds: 1, limit: 2 }),
  new Quota({ windowSeconds: 2, granularitySeconds: 1, limit: 3 }),
  new Quota({ windowSeconds: 2, granularitySeconds: 1, limit: 4, prefixOverride: 'shared' }),
];

type Mode = 'checkAndUse' | 'check' | 'checkThenUse';

interface Call {
  mode: Mode;
  requests: Array<{ prefix: string; requested: number; quotas: number[]; use: number }>;
}

type Step = { op: 'call'; call: Call } | { op: 'pass'; ms: number };

interface Sequence {
  startMs: number;
  /** Steps, with an idle gap longer than every window between two phases. */
  phases: Step[][];
}

function sequences(options: {
  pool: readonly Quota[];
  maxRequests: number;
  passMs: fc.Arbitrary<number>;
  steps: number;
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
        requested: fc.integer({ min: 0, max: 4 }),
        quotas: fc.uniqueArray(fc.integer({ min: 0, max: options.pool.length - 1 }), {
          minLength: 1,
          maxLength: 3,
        }),
        use: fc.integer({ min: 0, max: 4 }),
      }),
      { minLength: 1, maxLength: options.maxRequests },
    ),
  });
  const step: fc.Arbitrary<Step> = fc.oneof(
    { weight: 3, arbitrary: fc.record({ op: fc.constant('call' as const), call }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('pass' as const), ms: options.passMs }) },
  );
  return fc.record({
    startMs: fc.integer({ min: 0, max: 3_600_000 }),
    phases: fc.array(fc.array(step, { minLength: 1, maxLength: options.steps }), {
      minLength: 2,
      maxLength: options.phases,
    }),
  });
}

/** The store's grant in the model's terms; a retry within `slack` ms before the model's is the model's. */
function observed(
  grant: GrantedQuota,
  request: RequestedQuota,
  expected: ModelGrant,
  slack: { below: number; above: number },
): ModelGrant {
  const out: ModelGrant = {
    granted: grant.granted,
    reached: grant.reachedQuotas.map((q) => request.quotas.indexOf(q)),
  };
  if (grant.retryAfter !== undefined) {
    const actual = Number.isFinite(grant.retryAfter)
      ? Math.round(grant.retryAfter * 1000)
      : grant.retryAfter;
    const model = expected.retryAfterMs;
    const close =
      model !== undefined && actual >= model - slack.below && actual <= model + slack.above;
    out.retryAfterMs = close ? model : actual;
  }
  return out;
}

/**
 * Runs one sequence on `store` as `time` passes; `afterIdle` checks what the store holds.
 * Resolves to the number of steps compared and of steps that crossed a boundary (real time).
 */
async function runSequence(
  s: Sequence,
  pool: readonly Quota[],
  store: Store,
  time: Timeline,
  afterIdle: () => Promise<void>,
): Promise<{ compared: number; crossed: number }> {
  const limiter = new SlidingWindowRateLimiter(store);
  const model = new SlidingWindowModel();
  const boundaries = periodicBoundaries(pool.map((q) => ({ periodMs: q.granularityMs })));
  // Longer than every window and every key's TTL (the window plus one granule).
  const idleMs =
    Math.max(...pool.map((q) => (q.windowSeconds + q.granularitySeconds) * 1000)) + 300;
  let compared = 0;
  let crossed = 0;
  /** Units granted per window and granule, from the answers alone. */
  const granted = new SlidingWindowModel();
  /** Windows of `requests` holding more than their limit at `t`, by the answers alone. */
  const overLimit = (requests: RequestedQuota[], t: number) =>
    requests.flatMap((r) =>
      r.quotas
        .map((q) => ({ q, used: granted.used(r.prefix, q, t) }))
        .filter(({ q, used }) => used > q.limit)
        .map(({ q, used }) => `${r.prefix}: ${used} units in a window of limit ${q.limit}`),
    );

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
      const requests: RequestedQuota[] = step.call.requests.map((r) => ({
        prefix: r.prefix,
        requested: r.requested,
        quotas: r.quotas.map((index) => pool[index]!),
      }));
      const timed = await time.step(async () => {
        if (mode === 'checkAndUse') return { grants: await limiter.checkAndUseQuotas(requests) };
        const [timestamp, grants] = await limiter.checkWithinQuotas(requests);
        if (mode === 'check') return { grants, timestamp };
        const used = grants.map((g, k) => ({
          ...g,
          granted: Math.min(g.granted, step.call.requests[k]!.use),
        }));
        await limiter.useQuotas(requests, used, timestamp);
        return { grants, timestamp, used };
      }, boundaries);
      if (timed.crossed !== undefined) {
        // Stalled across a granule start: where it counted is unknown until every window passed.
        crossed++;
        await time.pass(idleMs);
        await afterIdle();
        continue;
      }
      compared++;
      const { fromMs, toMs } = timed;
      const { grants, timestamp, used } = timed.value;
      const expected = model.decide(requests, fromMs, mode === 'checkAndUse');
      // In real time the store decided within [fromMs, toMs + 1), so its retry may be that much
      // sooner; on a Cluster a call is decided slot by slot and its retry may also be later.
      const slack = {
        below: toMs + 1 - fromMs,
        above: store.clustered ? Number.POSITIVE_INFINITY : 0,
      };
      expectModel(
        grants.map((g, k) => observed(g, requests[k]!, expected[k]!, slack)),
        expected,
        `${where} at ${fromMs}`,
      );
      if (mode === 'checkAndUse')
        granted.use(
          requests,
          grants.map((g) => g.granted),
          fromMs,
        );
      if (used !== undefined) {
        const units = used.map((g) => g.granted);
        model.use(requests, units, fromMs);
        granted.use(requests, units, fromMs);
      }
      const broken = overLimit(requests, fromMs);
      if (
        timestamp !== undefined &&
        !(timestamp * 1000 >= fromMs - 1 && timestamp * 1000 <= toMs + 1)
      ) {
        broken.push(`the store's time ${timestamp} is not the step's`);
      }
      grants.forEach((g, k) => {
        if (g.prefix !== requests[k]!.prefix) broken.push(`grant ${k} has prefix ${g.prefix}`);
      });
      expectModel(broken, [], where);
    }
  }
  return { compared, crossed };
}

describe('SlidingWindowRateLimiter as time passes, against the model', () => {
  it('on memory, the injected clock deciding and expiring: 300 sequences', async () => {
    const pool = MEMORY_POOL;
    const arbitrary = sequences({
      pool,
      maxRequests: 3,
      passMs: fc.oneof(
        fc.constantFrom(0, 1, 499, 500, 999, 1000, 2000, 10_000, 60_000),
        fc.integer({ min: 0, max: 3000 }),
      ),
      steps: 12,
      phases: 4,
    });
    await fc.assert(
      fc.asyncProperty(arbitrary, async (s) => {
        const clock = new ManualClock(Date.UTC(2026, 0, 1) + s.startMs);
        await runSequence(s, pool, memoryStoreOn(clock), manualTimeline(clock), async () => {});
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  // Real time passes for the Redis and the Cluster sequences together.
  describe.concurrent.each(['redis', 'cluster'] as const)('on %s, in real time', (kind) => {
    const harness = useStore(kind);
    it('4 sequences at once, 1-2 s windows: expired windows leave Redis', async () => {
      // On a Cluster a call spanning hash slots is decided slot by slot: one request per call.
      const arbitrary = sequences({
        pool: REDIS_POOL,
        maxRequests: kind === 'cluster' ? 1 : 2,
        passMs: fc.constantFrom(0, 0, 200, 500),
        steps: 6,
        phases: 2,
      });
      let compared = 0;
      let crossed = 0;
      await runAllSettled(fc.sample(arbitrary, { seed: SEED, numRuns: 4 }), async (s) => {
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
