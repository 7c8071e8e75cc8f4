import { isDeepStrictEqual } from 'node:util';
import {
  ConcurrencyLimiter,
  type Lease,
  type Project,
  Quota,
  type QuotaConfig,
  Quotas,
  SlidingWindowRateLimiter,
  type Store,
} from '@sluice/core';
import {
  type Boundaries,
  firstSpanIn,
  ManualClock,
  manualTimeline,
  memoryStoreOn,
  periodicBoundaries,
  realTimeline,
  runAllSettled,
  type Timeline,
} from '@sluice/test-support/models';
import { type StoreKind, useStore } from '@sluice/test-support/stores';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

/**
 * An idle key behaves exactly like a fresh one, per engine and per store. A random history is
 * played on one store, then time passes longer than every window, grace and lease; then the
 * same random probe runs on that store and on a fresh one at the same instants, and every
 * answer must be the same (on Redis, times to retry within the step's own duration). No call
 * passes a timestamp: the memory stores share one injected clock, the Redis ones read `TIME`.
 * Probes begin as often with a read as with a write, the order that once lost writes on memory.
 */

const SEED = 20_261_201;

/** One engine on one store, its answers made comparable (leases become `'lease'`). */
interface Player<Step> {
  play(step: Step): Promise<unknown>;
  /** Called once the history is over, before the idle gap. */
  endHistory?(): void;
}

interface Engine<Setup, Step> {
  setup(kind: StoreKind): fc.Arbitrary<Setup>;
  /** Steps of the history and of the probe; `pass` steps let time pass on both stores. */
  step(kind: StoreKind, setup: Setup): fc.Arbitrary<Step | { op: 'pass'; ms: number }>;
  open(store: Store, setup: Setup): Player<Step>;
  /** Longer than every window, grace, lease and key TTL of the setup. */
  idleMs(setup: Setup): number;
  /**
   * Instants where answers change (real time keeps steps away from them), given the spans of
   * the probe steps so far: a lease taken or renewed in one expires a lease later.
   */
  boundaries(setup: Setup, steps: ReadonlyArray<{ fromMs: number; toMs: number }>): Boundaries;
}

const PROJECT: Project = { id: 1, organizationId: 7 };

interface QuotaSetup {
  projectLimit: number;
  projectWindow: number;
  organizationLimit: number | null;
  organizationWindow: number;
  graceSeconds: number;
}
type QuotaStep = { op: 'decide'; quantity: number } | { op: 'refund' } | { op: 'usage' };

const quotasEngine: Engine<QuotaSetup, QuotaStep> = {
  setup: (kind) =>
    fc.record({
      projectLimit: fc.constantFrom(1, 2, 3),
      projectWindow: fc.constantFrom(...(kind === 'memory' ? [1, 10, 60, 3600] : [1, 2])),
      organizationLimit: fc.constantFrom(null, 2, 4),
      organizationWindow: fc.constantFrom(...(kind === 'memory' ? [1, 10, 60, 3600] : [1, 2])),
      graceSeconds: fc.constantFrom(...(kind === 'memory' ? [0, 1, 60] : [0])),
    }),
  step: (kind) =>
    fc.oneof(
      {
        weight: 4,
        arbitrary: fc.record({ op: fc.constant('decide' as const), quantity: fc.nat(3) }),
      },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('refund' as const) }) },
      { weight: 2, arbitrary: fc.record({ op: fc.constant('usage' as const) }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('pass' as const), ms: passMs(kind) }) },
    ),
  open(store, setup) {
    const configs: QuotaConfig[] = [
      {
        id: 'p',
        scope: 'project',
        limit: setup.projectLimit,
        windowSeconds: setup.projectWindow,
        reasonCode: 'project_quota',
      },
      {
        id: 'o',
        scope: 'organization',
        limit: setup.organizationLimit,
        windowSeconds: setup.organizationWindow,
        reasonCode: 'org_quota',
      },
    ];
    const quotas = new Quotas({
      store,
      getQuotas: () => configs,
      graceSeconds: setup.graceSeconds,
    });
    return {
      async play(step) {
        if (step.op === 'decide') return quotas.isRateLimited(PROJECT, { quantity: step.quantity });
        if (step.op === 'refund') return quotas.refund(PROJECT);
        return (await quotas.getUsage(PROJECT)).map((u) => u.used);
      },
    };
  },
  idleMs: (s) => (Math.max(s.projectWindow, s.organizationWindow) + s.graceSeconds) * 1000 + 300,
  boundaries: (s) =>
    periodicBoundaries(
      [s.projectWindow, s.organizationWindow].map((w) => ({
        periodMs: w * 1000,
        offsetMs: ((PROJECT.organizationId as number) % w) * 1000,
      })),
    ),
};

const MEMORY_WINDOWS = [
  new Quota({ windowSeconds: 1, granularitySeconds: 1, limit: 2 }),
  new Quota({ windowSeconds: 10, granularitySeconds: 1, limit: 5 }),
  new Quota({ windowSeconds: 2, granularitySeconds: 0.5, limit: 3 }),
  new Quota({ windowSeconds: 60, granularitySeconds: 10, limit: 8, prefixOverride: 'shared' }),
];
const REDIS_WINDOWS = [
  new Quota({ windowSeconds: 1, granularitySeconds: 1, limit: 2 }),
  new Quota({ windowSeconds: 2, granularitySeconds: 1, limit: 3 }),
];

type WindowSetup = { pool: readonly Quota[] };
type WindowStep = { op: 'checkAndUse' | 'check'; requested: number; quotas: number[] };

const windowsEngine: Engine<WindowSetup, WindowStep> = {
  setup: (kind) => fc.constant({ pool: kind === 'memory' ? MEMORY_WINDOWS : REDIS_WINDOWS }),
  step: (kind, { pool }) =>
    fc.oneof(
      {
        weight: 3,
        arbitrary: fc.record({
          op: fc.constantFrom('checkAndUse' as const, 'check' as const),
          requested: fc.nat(3),
          quotas: fc.uniqueArray(fc.nat(pool.length - 1), { minLength: 1, maxLength: 3 }),
        }),
      },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('pass' as const), ms: passMs(kind) }) },
    ),
  open(store, { pool }) {
    const limiter = new SlidingWindowRateLimiter(store);
    return {
      async play(step) {
        const requests = [
          { prefix: 'p', requested: step.requested, quotas: step.quotas.map((i) => pool[i]!) },
        ];
        if (step.op === 'checkAndUse') return limiter.checkAndUseQuotas(requests);
        return (await limiter.checkWithinQuotas(requests))[1];
      },
    };
  },
  idleMs: ({ pool }) =>
    Math.max(...pool.map((q) => (q.windowSeconds + q.granularitySeconds) * 1000)) + 300,
  boundaries: ({ pool }) => periodicBoundaries(pool.map((q) => ({ periodMs: q.granularityMs }))),
};

type LeaseSetup = { limit: number; leaseSeconds: number };
type LeaseStep =
  | { op: 'acquire' }
  | { op: 'inFlight' }
  | { op: 'release' | 'extend'; lease: number }
  /** Renews or releases a lease of the history: on the fresh store there is none. */
  | { op: 'oldExtend' | 'oldRelease'; lease: number };

const leasesEngine: Engine<LeaseSetup, LeaseStep> = {
  setup: (kind) =>
    fc.record({
      limit: fc.constantFrom(1, 2),
      leaseSeconds: fc.constantFrom(...(kind === 'memory' ? [1, 5, 30] : [1])),
    }),
  step: (kind, { leaseSeconds }) => {
    const lease = fc.nat(9);
    const steps: Array<fc.WeightedArbitrary<LeaseStep | { op: 'pass'; ms: number }>> = [
      { weight: 4, arbitrary: fc.record({ op: fc.constantFrom('acquire' as const) }) },
      { weight: 2, arbitrary: fc.record({ op: fc.constantFrom('inFlight' as const) }) },
      {
        weight: 2,
        arbitrary: fc.record({ op: fc.constantFrom('release' as const, 'extend' as const), lease }),
      },
      {
        weight: 1,
        arbitrary: fc.record({
          op: fc.constantFrom('oldExtend' as const, 'oldRelease' as const),
          lease,
        }),
      },
    ];
    const ms =
      kind === 'memory'
        ? fc.constantFrom(0, 1, 500, 999, 1000).map((p) => (leaseSeconds * p) | 0)
        : passMs(kind);
    steps.push({ weight: 1, arbitrary: fc.record({ op: fc.constant('pass' as const), ms }) });
    return fc.oneof(...steps);
  },
  open(store, { limit, leaseSeconds }) {
    const limiter = new ConcurrencyLimiter(store, { limit, leaseSeconds, waitSeconds: 0 });
    let leases: Lease[] = [];
    let old: Lease[] = [];
    return {
      async play(step) {
        if (step.op === 'acquire') {
          const lease = await limiter.acquire('k');
          if (lease !== null) leases.push(lease);
          return lease === null ? null : 'lease';
        }
        if (step.op === 'inFlight') return limiter.inFlight('k');
        const list = step.op === 'release' || step.op === 'extend' ? leases : old;
        const lease = list[step.lease % Math.max(1, list.length)];
        if (step.op === 'release' || step.op === 'oldRelease') return lease?.release();
        return lease === undefined ? false : lease.extend();
      },
      endHistory() {
        old = leases;
        leases = [];
      },
    };
  },
  idleMs: ({ leaseSeconds }) => leaseSeconds * 1000 + 300,
  boundaries:
    ({ leaseSeconds }, steps) =>
    (fromMs, toMs) =>
      firstSpanIn(
        steps.map((s) => ({
          from: s.fromMs + leaseSeconds * 1000,
          to: s.toMs + 1 + leaseSeconds * 1000,
        })),
        fromMs,
        toMs,
      ),
};

function passMs(kind: StoreKind): fc.Arbitrary<number> {
  return kind === 'memory'
    ? fc.constantFrom(0, 1, 499, 500, 999, 1000, 10_000, 60_000)
    : fc.constantFrom(0, 150, 400);
}

/** `actual` with each number under a `retryAfter` or `resetAfter` key within `toleranceMs` of `expected`'s replaced by it. */
function alike(actual: unknown, expected: unknown, toleranceMs: number): unknown {
  if (Object.is(actual, expected)) return actual;
  if (Array.isArray(actual) && Array.isArray(expected)) {
    return actual.map((a, i) => alike(a, expected[i], toleranceMs));
  }
  if (actual === null || expected === null || typeof actual !== 'object') return actual;
  if (typeof expected !== 'object') return actual;
  const out: Record<string, unknown> = Object.create(Object.getPrototypeOf(actual));
  for (const [name, value] of Object.entries(actual)) {
    const other = (expected as Record<string, unknown>)[name];
    const time = name === 'retryAfter' || name === 'resetAfter';
    out[name] =
      time &&
      typeof value === 'number' &&
      typeof other === 'number' &&
      Math.abs(value - other) * 1000 <= toleranceMs
        ? other
        : alike(value, other, toleranceMs);
  }
  return out;
}

interface Plan<Setup, Step> {
  setup: Setup;
  history: Array<Step | { op: 'pass'; ms: number }>;
  probe: Array<Step | { op: 'pass'; ms: number }>;
}

function plans<Setup, Step>(
  engine: Engine<Setup, Step>,
  kind: StoreKind,
  length: number,
): fc.Arbitrary<Plan<Setup, Step>> {
  return engine.setup(kind).chain((setup) =>
    fc.record({
      setup: fc.constant(setup),
      history: fc.array(engine.step(kind, setup), { minLength: 1, maxLength: length }),
      probe: fc.array(engine.step(kind, setup), { minLength: 1, maxLength: length }),
    }),
  );
}

/**
 * Plays the history on `idle`, lets every window and lease pass, then the probe on both stores
 * at once. Resolves to the number of probe steps compared.
 */
async function playPlan<Setup, Step extends { op: string }>(
  engine: Engine<Setup, Step>,
  plan: Plan<Setup, Step>,
  stores: { idle: Store; fresh: Store },
  time: Timeline,
): Promise<number> {
  const idle = engine.open(stores.idle, plan.setup);
  const fresh = engine.open(stores.fresh, plan.setup);
  const steps: Array<{ fromMs: number; toMs: number }> = [];
  const boundaries = engine.boundaries(plan.setup, steps);
  for (const step of plan.history) {
    if (step.op === 'pass') await time.pass((step as { ms: number }).ms);
    else await time.step(() => idle.play(step as Step), boundaries);
  }
  idle.endHistory?.();
  await time.pass(engine.idleMs(plan.setup));
  let compared = 0;
  for (const [i, step] of plan.probe.entries()) {
    if (step.op === 'pass') {
      await time.pass((step as { ms: number }).ms);
      continue;
    }
    const timed = await time.step(async () => {
      const fromIdle = await idle.play(step as Step);
      return { fromIdle, fromFresh: await fresh.play(step as Step) };
    }, boundaries);
    steps.push(timed);
    // A stall across a boundary may have put the two stores on either side of it: let both go
    // idle, after which each must again answer as a fresh store would.
    if (timed.crossed !== undefined) {
      await time.pass(engine.idleMs(plan.setup));
      continue;
    }
    const { fromIdle, fromFresh } = timed.value;
    const toleranceMs = timed.toMs + 1 - timed.fromMs;
    const answer = alike(fromIdle, fromFresh, toleranceMs);
    if (!isDeepStrictEqual(answer, fromFresh)) {
      expect(answer, `probe step ${i} ${JSON.stringify(step)} at ${timed.fromMs}`).toEqual(
        fromFresh,
      );
    }
    compared++;
  }
  return compared;
}

const ENGINES = [
  ['Quotas', quotasEngine],
  ['SlidingWindowRateLimiter', windowsEngine],
  ['ConcurrencyLimiter', leasesEngine],
] as const;

describe('on memory, an idle key answers exactly as a fresh one', () => {
  it.each(ENGINES)('%s: 150 random histories and probes on one clock', async (_, engine) => {
    const e = engine as Engine<unknown, { op: string }>;
    await fc.assert(
      fc.asyncProperty(plans(e, 'memory', 10), fc.nat(3_600_000), async (plan, startMs) => {
        const clock = new ManualClock(Date.UTC(2026, 0, 1) + startMs);
        const stores = { idle: memoryStoreOn(clock), fresh: memoryStoreOn(clock) };
        await playPlan(e, plan, stores, manualTimeline(clock));
      }),
      { seed: SEED, numRuns: 150 },
    );
  });
});

// Real time passes for every engine on the Redis and the Cluster together.
describe.concurrent.each(['redis', 'cluster'] as const)(
  'on %s, an idle key answers exactly as a fresh one',
  (kind) => {
    const harness = useStore(kind);
    it.each(ENGINES)('%s: 3 histories and probes at once, in real time', async (_, engine) => {
      const e = engine as Engine<unknown, { op: string }>;
      let compared = 0;
      const sample = fc.sample(plans(e, kind, 5), { seed: SEED, numRuns: 3 });
      await runAllSettled(sample, async (plan) => {
        const stores = { idle: harness.store(), fresh: harness.store() };
        compared += await playPlan(e, plan, stores, realTimeline({ marginMs: 300 }));
      });
      expect(compared, 'probe steps compared').toBeGreaterThan(0);
    });
  },
);
