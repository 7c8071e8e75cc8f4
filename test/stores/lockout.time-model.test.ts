import { Lockout, type LockoutOptions, type LockoutState, type Store } from '@sluice/core';
import {
  expectModel,
  firstSpanIn,
  ManualClock,
  manualTimeline,
  memoryStoreOn,
  realTimeline,
  runAllSettled,
  type Timeline,
} from '@sluice/test-support/models';
import { countingStore } from '@sluice/test-support/projects';
import { useStore } from '@sluice/test-support/stores';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LockoutModel } from './lockout-model.js';

/**
 * The lockout while time passes: random refusals, block checks, inspections and resets over
 * two keys from two "processes" (two `Lockout`s on one store, each with its own memory of the
 * blocks it saw), with idle gaps longer than the period, the longest block and the forgetting
 * between phases, so blocks end, offences are forgotten and keys expire. No call passes a
 * timestamp: on memory the store's injected clock decides and expires, on Redis its `TIME`.
 * Every answer is compared with {@link LockoutModel}; a process's memory is modelled as what
 * it was told (a reset elsewhere does not reach it), and a check that its memory answers must
 * make no store call.
 */

const SEED = 20_261_202;
const KEYS = ['a', 'b'];

type Step =
  | { op: 'refuse' | 'blocked' | 'inspect' | 'reset'; key: number; process: number }
  | { op: 'pass'; ms: number };

interface Sequence {
  options: number;
  startMs: number;
  phases: Step[][];
}

const MEMORY_OPTIONS: LockoutOptions[] = [
  {
    after: 3,
    withinSeconds: 10,
    blockSeconds: 5,
    backoff: 2,
    maxBlockSeconds: 30,
    forgetSeconds: 60,
  },
  {
    after: 1,
    withinSeconds: 1,
    blockSeconds: 0.5,
    backoff: 1.5,
    maxBlockSeconds: 2,
    forgetSeconds: 3,
  },
  { after: 2, withinSeconds: 4, blockSeconds: 3, forgetSeconds: 1 },
  {
    after: 2,
    withinSeconds: 10,
    blockSeconds: 1,
    backoff: 2,
    maxBlockSeconds: 6,
    forgetSeconds: 30,
  },
];

/** Short enough for real time: blocks of 0.3 to 0.8 s, offences forgotten after 1 s. */
const REDIS_OPTIONS: LockoutOptions[] = [
  {
    after: 2,
    withinSeconds: 1,
    blockSeconds: 0.3,
    backoff: 2,
    maxBlockSeconds: 0.8,
    forgetSeconds: 1,
  },
];

function sequences(options: {
  configs: number;
  passMs: fc.Arbitrary<number>;
  passWeight: number;
  steps: { min: number; max: number };
  phases: number;
}): fc.Arbitrary<Sequence> {
  const target = { key: fc.constantFrom(0, 0, 0, 1), process: fc.integer({ min: 0, max: 1 }) };
  const op = (name: 'refuse' | 'blocked' | 'inspect' | 'reset') =>
    fc.record({ op: fc.constant(name), ...target });
  const step: fc.Arbitrary<Step> = fc.oneof(
    { weight: 6, arbitrary: op('refuse') },
    { weight: 3, arbitrary: op('blocked') },
    { weight: 1, arbitrary: op('inspect') },
    { weight: 1, arbitrary: op('reset') },
    {
      weight: options.passWeight,
      arbitrary: fc.record({ op: fc.constant('pass' as const), ms: options.passMs }),
    },
  );
  return fc.record({
    options: fc.integer({ min: 0, max: options.configs - 1 }),
    startMs: fc.integer({ min: 0, max: 3_600_000 }),
    phases: fc.array(
      fc.array(step, { minLength: options.steps.min, maxLength: options.steps.max, size: 'max' }),
      {
        minLength: 2,
        maxLength: options.phases,
      },
    ),
  });
}

/**
 * A state in ms, as the model gives it: in real time the store decided up to `slackMs` after
 * the model's instant, and a block it started may end up to `lagMs` after the model's.
 */
function observed(state: LockoutState, expectedMs: number, slackMs: number, lagMs: number) {
  const actualMs = Math.round(state.retryAfter * 1000);
  const near = actualMs <= expectedMs + lagMs && actualMs >= expectedMs - slackMs;
  return {
    blocked: state.blocked,
    retryAfterMs: near ? expectedMs : actualMs,
    offences: state.offences,
    refusals: state.refusals,
    started: state.started,
  };
}

async function runSequence(
  s: Sequence,
  options: LockoutOptions,
  inner: Store,
  time: Timeline,
  /** ms a process's memory of a block may outlast the store's (its clock read after the reply). */
  lagMs: number,
  afterIdle: () => Promise<void>,
): Promise<{ compared: number; crossed: number; blocks: number; repeats: number }> {
  // The counting wrapper keeps the memory store's clock, which the lockout's memory follows.
  const store = Object.assign(countingStore(inner), {
    clock: (inner as { clock?: unknown }).clock,
  });
  const processes = [new Lockout(store, options), new Lockout(store, options)];
  const o = processes[0]!.options;
  const model = new LockoutModel(o);
  /** What each process was told: key -> end of the block it remembers, ms. */
  const remembered = processes.map(() => new Map<string, number>());
  const idleMs = o.withinMs + o.maxBlockMs + o.forgetMs + 300;
  let compared = 0;
  let crossed = 0;
  /** Blocks started on a third offence or later: the backoff and its cap at work. */
  let repeats = 0;
  /** Blocks started, and compared. */
  let blocks = 0;
  const boundaries = (fromMs: number, toMs: number) =>
    firstSpanIn(
      KEYS.flatMap((key) => [
        ...model.changes(key, fromMs - 5).map((t) => ({ from: t - 3, to: t + lagMs })),
        ...remembered.map((m) => m.get(key) ?? 0).map((t) => ({ from: t - 3, to: t + lagMs })),
      ]),
      fromMs,
      toMs,
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
      const key = KEYS[step.key]!;
      const lockout = processes[step.process]!;
      const memory = remembered[step.process]!;
      const callsBefore = store.calls;
      const timed = await time.step(async () => {
        if (step.op === 'refuse') return lockout.recordRefusal(key);
        if (step.op === 'blocked') return lockout.blocked(key);
        if (step.op === 'inspect') return lockout.inspect(key);
        return lockout.reset(key);
      }, boundaries);
      const { fromMs, toMs } = timed;
      const slackMs = toMs + 1 - fromMs;
      const before = model.at(key, fromMs);
      if (step.op === 'refuse') model.refuse(key, fromMs);
      if (step.op === 'reset') {
        model.reset(key, fromMs);
        memory.delete(key);
      }
      const after = model.at(key, fromMs);
      if (after.untilMs > fromMs && step.op !== 'blocked') memory.set(key, after.untilMs);
      if (timed.crossed !== undefined) {
        crossed++;
        // The model cannot tell which side the store decided on: start afresh after the gap.
        await time.pass(idleMs);
        for (const m of remembered) m.clear();
        for (const k of KEYS) {
          for (const p of processes) await p.reset(k);
          model.reset(k, Date.now());
        }
        await afterIdle();
        continue;
      }
      compared++;
      const calls = store.calls - callsBefore;
      if (step.op === 'reset') {
        expectModel(calls, 1, where);
        continue;
      }
      if (step.op === 'blocked') {
        const seconds = timed.value as number;
        const seen = (memory.get(key) ?? 0) > fromMs;
        const expectedMs = seen ? memory.get(key)! - fromMs : Math.max(0, after.untilMs - fromMs);
        const actualMs = Math.round(seconds * 1000);
        const near = actualMs >= expectedMs - slackMs && actualMs <= expectedMs + lagMs;
        expectModel(
          { ms: near ? expectedMs : actualMs, calls },
          { ms: expectedMs, calls: seen ? 0 : 1 },
          where,
        );
        if (!seen && after.untilMs > fromMs) memory.set(key, after.untilMs);
        continue;
      }
      const state = timed.value as LockoutState;
      expectModel(calls, 1, where);
      const blockedBefore = before.untilMs > fromMs && step.op === 'refuse';
      const started = step.op === 'refuse' && !blockedBefore && after.untilMs > fromMs;
      const expectedMs = Math.max(0, after.untilMs - fromMs);
      if (started) blocks++;
      if (started && after.offences >= 3) repeats++;
      expectModel(
        observed(state, expectedMs, slackMs, lagMs),
        {
          blocked: after.untilMs > fromMs,
          retryAfterMs: expectedMs,
          offences: after.offences,
          refusals: started ? o.after : after.refusals,
          started,
        },
        `${where} at ${fromMs}`,
      );
    }
  }
  return { compared, crossed, blocks, repeats };
}

describe('Lockout as time passes, against the model', () => {
  it('on memory, the injected clock deciding and expiring: 1,000 sequences', async () => {
    const arbitrary = sequences({
      configs: MEMORY_OPTIONS.length,
      passMs: fc.oneof(
        fc.constantFrom(0, 1, 499, 500, 999, 1000, 3000, 5000, 10_000, 30_000, 60_000),
        fc.integer({ min: 0, max: 12_000 }),
      ),
      passWeight: 3,
      steps: { min: 1, max: 40 },
      phases: 4,
    });
    let repeats = 0;
    await fc.assert(
      fc.asyncProperty(arbitrary, async (s) => {
        const clock = new ManualClock(Date.UTC(2026, 0, 1) + s.startMs);
        const store = memoryStoreOn(clock);
        const counts = await runSequence(
          s,
          MEMORY_OPTIONS[s.options]!,
          store,
          manualTimeline(clock),
          0,
          async () => {},
        );
        repeats += counts.repeats;
      }),
      { seed: SEED, numRuns: 1000 },
    );
    expect(repeats, 'blocks started on a third offence or later').toBeGreaterThan(50);
  });

  describe.concurrent.each(['redis', 'cluster'] as const)('on %s, in real time', (kind) => {
    const harness = useStore(kind);
    it('8 sequences at once: blocks end, offences are forgotten, keys leave Redis', async () => {
      const arbitrary = sequences({
        configs: REDIS_OPTIONS.length,
        passMs: fc.constantFrom(100, 200, 300, 500),
        passWeight: 3,
        steps: { min: 10, max: 14 },
        phases: 2,
      });
      let compared = 0;
      let crossed = 0;
      let blocks = 0;
      await runAllSettled(fc.sample(arbitrary, { seed: SEED, numRuns: 8 }), async (s) => {
        const store = harness.store();
        const counts = await runSequence(
          s,
          REDIS_OPTIONS[s.options]!,
          store,
          realTimeline({ marginMs: 150 }),
          40,
          async () => {
            expect(await harness.keyCount(store), 'keys left after the idle gap').toBe(0);
          },
        );
        compared += counts.compared;
        crossed += counts.crossed;
        blocks += counts.blocks;
      });
      expect(blocks, 'blocks started in real time').toBeGreaterThan(8);
      expect(compared, `steps compared (${crossed} ran across a boundary)`).toBeGreaterThan(
        crossed,
      );
    });
  });
});
