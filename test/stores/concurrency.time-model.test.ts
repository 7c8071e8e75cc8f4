import { ConcurrencyLimiter, type Lease, type Store } from '@sluice/core';
import {
  expectModel,
  firstSpanIn,
  LeaseModel,
  ManualClock,
  type ModelLease,
  manualTimeline,
  memoryStoreOn,
  realTimeline,
  runAllSettled,
  type Timeline,
} from '@sluice/test-support/models';
import { useStore } from '@sluice/test-support/stores';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

/**
 * The concurrency limiter while time passes: random acquires (no waiting), releases, renewals,
 * counts and resets over two keys, with idle gaps longer than the lease between phases, so
 * leases are lost, their keys expire and are taken again. On memory the store's injected clock
 * decides and expires, on Redis its `TIME`. Every answer is compared with {@link LeaseModel};
 * from the answers alone, no key ever has more live leases than the limit, and a lease whose
 * renewal failed never renews again.
 */

const SEED = 20_261_201;
const KEYS = ['a', 'b'];

type Step =
  | { op: 'acquire'; key: number }
  | { op: 'release'; lease: number }
  | { op: 'extend'; lease: number }
  | { op: 'inFlight'; key: number }
  | { op: 'reset'; key: number }
  /** Lets `permille` thousandths of a lease pass. */
  | { op: 'pass'; permille: number };

interface Sequence {
  limit: number;
  leaseSeconds: number;
  startMs: number;
  /** Steps, with an idle gap longer than the lease between two phases. */
  phases: Step[][];
}

function sequences(options: {
  limits: number[];
  leaseSeconds: number[];
  permille: fc.Arbitrary<number>;
  steps: number;
  phases: number;
}): fc.Arbitrary<Sequence> {
  const key = fc.integer({ min: 0, max: KEYS.length - 1 });
  const lease = fc.nat(20);
  const step: fc.Arbitrary<Step> = fc.oneof(
    { weight: 5, arbitrary: fc.record({ op: fc.constant('acquire' as const), key }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('release' as const), lease }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('extend' as const), lease }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('inFlight' as const), key }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('reset' as const), key }) },
    {
      weight: 3,
      arbitrary: fc.record({ op: fc.constant('pass' as const), permille: options.permille }),
    },
  );
  return fc.record({
    limit: fc.constantFrom(...options.limits),
    leaseSeconds: fc.constantFrom(...options.leaseSeconds),
    startMs: fc.integer({ min: 0, max: 3_600_000 }),
    phases: fc.array(fc.array(step, { minLength: 1, maxLength: options.steps }), {
      minLength: 2,
      maxLength: options.phases,
    }),
  });
}

/**
 * Runs one sequence on `store` as `time` passes; `afterIdle` checks what the store holds.
 * Resolves to the number of steps compared and of steps that crossed a lease's expiry.
 */
async function runSequence(
  s: Sequence,
  store: Store,
  time: Timeline,
  afterIdle: () => Promise<void>,
): Promise<{ compared: number; crossed: number }> {
  const leaseMs = s.leaseSeconds * 1000;
  const limiter = new ConcurrencyLimiter(store, {
    limit: s.limit,
    leaseSeconds: s.leaseSeconds,
    waitSeconds: 0,
  });
  const model = new LeaseModel({ limit: s.limit, leaseMs });
  const held: Array<{ lease: Lease; model: ModelLease }> = [];
  /** From the answers alone: when each lease handed out was last granted or renewed. */
  const answered = new Map<Lease, { key: string; since: number; over: boolean }>();
  const lost = new Set<Lease>();
  const boundaries = (fromMs: number, toMs: number) =>
    firstSpanIn(model.expirySpans(), fromMs, toMs);
  const idleMs = leaseMs + 300;
  const checkLive = (t: number, where: string) => {
    for (const key of KEYS) {
      let live = 0;
      for (const a of answered.values())
        if (a.key === key && !a.over && t < a.since + leaseMs) live++;
      if (live > s.limit) expect.fail(`${where}: ${live} live leases of ${key}, limit ${s.limit}`);
    }
  };
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
        await time.pass(Math.round((leaseMs * step.permille) / 1000));
        continue;
      }
      if ((step.op === 'release' || step.op === 'extend') && held.length === 0) continue;
      const pick = 'lease' in step ? held[step.lease % held.length]! : undefined;
      const key = 'key' in step ? KEYS[step.key]! : '';
      const timed = await time.step<unknown>(() => {
        if (step.op === 'acquire') return limiter.acquire(key);
        if (step.op === 'release') return pick!.lease.release();
        if (step.op === 'extend') return pick!.lease.extend();
        if (step.op === 'inFlight') return limiter.inFlight(key);
        return limiter.reset(key);
      }, boundaries);
      const { fromMs, toMs } = timed;
      const stalled = timed.crossed !== undefined;
      const at = `${where} at ${fromMs}`;

      if (step.op === 'acquire') {
        const lease = timed.value as Lease | null;
        // A stalled step may have seen a lease alive or expired: take the store's answer.
        const expected = stalled ? null : model.acquire(key, fromMs, toMs);
        if (!stalled) expectModel(lease !== null, expected !== null, `${at}: granted`);
        if (lease !== null) {
          held.push({ lease, model: expected ?? model.grant(key, fromMs, toMs) });
          answered.set(lease, { key, since: fromMs, over: false });
        }
      } else if (step.op === 'release') {
        model.release(pick!.model);
        answered.get(pick!.lease)!.over = true;
      } else if (step.op === 'extend') {
        const renewed = timed.value as boolean;
        if (lost.has(pick!.lease)) expect(renewed, `${at}: a lost lease renewed`).toBe(false);
        if (stalled) {
          if (renewed) pick!.model.expires = { from: fromMs + leaseMs, to: toMs + 1 + leaseMs };
          else if (pick!.model.state === 'held') pick!.model.state = 'lost';
        } else {
          expectModel(renewed, model.extend(pick!.model, fromMs, toMs), `${at}: renewed`);
        }
        const record = answered.get(pick!.lease)!;
        if (renewed) record.since = fromMs;
        else {
          lost.add(pick!.lease);
          record.over = true;
        }
      } else if (step.op === 'inFlight') {
        if (!stalled) expectModel(timed.value, model.inFlight(key, fromMs), `${at}: in flight`);
        if ((timed.value as number) > s.limit) expect.fail(`${at}: ${timed.value} in flight`);
      } else {
        model.reset(key);
        for (const a of answered.values()) if (a.key === key) a.over = true;
      }
      if (stalled) {
        // Let every lease expire, so that where the stalled step fell no longer matters.
        crossed++;
        await time.pass(idleMs);
        await afterIdle();
        continue;
      }
      compared++;
      checkLive(fromMs, where);
    }
  }
  return { compared, crossed };
}

describe('ConcurrencyLimiter as time passes, against the model', () => {
  it('on memory, the injected clock deciding and expiring: 300 sequences', async () => {
    const arbitrary = sequences({
      limits: [1, 2, 3],
      leaseSeconds: [1, 5, 30],
      permille: fc.constantFrom(0, 1, 250, 500, 999, 1000, 1001, 1500),
      steps: 14,
      phases: 4,
    });
    await fc.assert(
      fc.asyncProperty(arbitrary, async (s) => {
        const clock = new ManualClock(Date.UTC(2026, 0, 1) + s.startMs);
        await runSequence(s, memoryStoreOn(clock), manualTimeline(clock), async () => {});
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  // Real time passes for the Redis and the Cluster sequences together.
  describe.concurrent.each(['redis', 'cluster'] as const)('on %s, in real time', (kind) => {
    const harness = useStore(kind);
    it('4 sequences at once, 1 s leases: lost leases leave Redis', async () => {
      const arbitrary = sequences({
        limits: [1, 2],
        leaseSeconds: [1],
        permille: fc.constantFrom(0, 0, 150, 400),
        steps: 8,
        phases: 3,
      });
      let compared = 0;
      let crossed = 0;
      await runAllSettled(fc.sample(arbitrary, { seed: SEED, numRuns: 4 }), async (s) => {
        const store = harness.store();
        const counts = await runSequence(s, store, realTimeline({ marginMs: 300 }), async () => {
          expect(await harness.keyCount(store), 'keys left after the idle gap').toBe(0);
        });
        compared += counts.compared;
        crossed += counts.crossed;
      });
      expect(compared, `steps compared (${crossed} ran across a lease expiry)`).toBeGreaterThan(
        crossed,
      );
    });
  });
});
