import { type QuotaConfig, Quotas, RejectionCache, type Store } from '@sluice/core';
import {
  expectModel,
  FixedWindowModel,
  ManualClock,
  type ModelProject,
  type ModelQuotaConfig,
  manualTimeline,
  memoryStoreOn,
  periodicBoundaries,
  realTimeline,
  runAllSettled,
  type Timeline,
} from '@sluice/test-support/models';
import { processView, useStore } from '@sluice/test-support/stores';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

/**
 * Global quotas while time passes: a global quota and a project quota, decided by one engine
 * (one process) or by three engines on one store (three processes), with random decisions,
 * refunds and usage reads and idle gaps longer than every window plus grace. No call passes a
 * timestamp: on memory the store's injected clock decides, on Redis its `TIME` (which the
 * engines' slices must follow without a store call).
 *
 * One engine: every answer and usage equals {@link FixedWindowModel}'s (slices change nothing
 * a single process can see). Three engines: per global window, the units admitted minus
 * refunded never exceed the limit, and a global refusal happens only when what was admitted,
 * what the other engines hold unspent and the quantity together pass the limit; the project
 * quota, on its usual one-step counter, still equals the model.
 */

const SEED = 20_261_203;
const PROJECTS: readonly ModelProject[] = [
  { id: 1, organizationId: 7 },
  { id: 2, organizationId: 12 },
];

type Step =
  | { op: 'decide'; engine: number; project: number; quantity: number }
  | { op: 'refund'; engine: number; project: number; quantity: number }
  | { op: 'usage'; engine: number; project: number }
  | { op: 'pass'; ms: number };

interface Sequence {
  globalLimit: number | null;
  globalWindow: number;
  projectLimit: number | null;
  projectWindow: number;
  graceSeconds: number;
  startMs: number;
  cached: boolean;
  phases: Step[][];
}

function sequences(options: {
  engines: number;
  windows: number[];
  globalLimits: Array<number | null>;
  projectLimits: Array<number | null>;
  graces: number[];
  quantities: fc.Arbitrary<number>;
  passMs: fc.Arbitrary<number>;
  steps: number;
  phases: number;
}): fc.Arbitrary<Sequence> {
  const engine = fc.integer({ min: 0, max: options.engines - 1 });
  const project = fc.integer({ min: 0, max: PROJECTS.length - 1 });
  const step: fc.Arbitrary<Step> = fc.oneof(
    {
      weight: 8,
      arbitrary: fc.record({
        op: fc.constant('decide' as const),
        engine,
        project,
        quantity: options.quantities,
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        op: fc.constant('refund' as const),
        engine,
        project,
        quantity: fc.integer({ min: 1, max: 2 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('usage' as const), engine, project }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('pass' as const), ms: options.passMs }) },
  );
  return fc.record({
    globalLimit: fc.constantFrom(...options.globalLimits),
    globalWindow: fc.constantFrom(...options.windows),
    projectLimit: fc.constantFrom(...options.projectLimits),
    projectWindow: fc.constantFrom(...options.windows),
    graceSeconds: fc.constantFrom(...options.graces),
    startMs: fc.integer({ min: 0, max: 3_600_000 }),
    cached: fc.boolean(),
    phases: fc.array(fc.array(step, { minLength: 1, maxLength: options.steps }), {
      minLength: 2,
      maxLength: options.phases,
    }),
  });
}

function configsOf(s: Sequence): ModelQuotaConfig[] {
  return [
    {
      id: 'g',
      scope: 'global',
      limit: s.globalLimit,
      windowSeconds: s.globalWindow,
      reasonCode: 'global_quota',
    },
    {
      id: 'p',
      scope: 'project',
      limit: s.projectLimit,
      windowSeconds: s.projectWindow,
      reasonCode: 'project_quota',
    },
  ];
}

/**
 * Runs one sequence on `store` with `engines` engines; with one, compares every answer with the
 * model; with more, checks the bounds. `afterIdle` checks what the store holds after a gap.
 */
async function runSequence(
  s: Sequence,
  store: Store,
  engineCount: number,
  time: Timeline,
  afterIdle: () => Promise<void>,
  cacheClock?: () => number,
): Promise<{ compared: number; crossed: number; refusedGlobal: number }> {
  const configs = configsOf(s);
  const projectConfig = configs[1]!;
  const exact = engineCount === 1;
  // One engine: the whole model. Several: the model of the project quota alone (the global
  // quota is checked against its bound).
  const model = new FixedWindowModel(exact ? configs : [projectConfig]);
  const engines = Array.from(
    { length: engineCount },
    () =>
      new Quotas({
        // Each engine on its own view of the store: a process of its own, with its own slices.
        store: processView(store),
        getQuotas: () => configs as QuotaConfig[],
        graceSeconds: s.graceSeconds,
        ...(s.cached && cacheClock !== undefined
          ? { rejectionCache: new RejectionCache({ now: cacheClock }) }
          : {}),
      }),
  );
  const boundaries = periodicBoundaries([
    { periodMs: s.globalWindow * 1000 },
    ...PROJECTS.map((p) => ({
      periodMs: s.projectWindow * 1000,
      offsetMs: (p.organizationId % s.projectWindow) * 1000,
    })),
  ]);
  /** Global units admitted minus refunded per global window, from the answers alone. */
  const admitted = new Map<number, number>();
  const globalWindow = (t: number) => Math.floor(t / (s.globalWindow * 1000));
  const admit = (units: number, t: number) => {
    const w = globalWindow(t);
    const total = (admitted.get(w) ?? 0) + units;
    admitted.set(w, total);
    if (s.globalLimit !== null && units > 0 && total > s.globalLimit) {
      expect.fail(`global window ${w}: ${total} admitted, beyond the limit ${s.globalLimit}`);
    }
  };
  /** Units every engine but `engine` holds in the current global window. */
  const othersHeld = async (engine: number, project: ModelProject) => {
    let held = 0;
    for (let i = 0; i < engines.length; i++) {
      if (i !== engine) held += (await engines[i]!.getUsage(project))[0]!.held!;
    }
    return held;
  };
  const idleMs = (Math.max(s.globalWindow, s.projectWindow) + s.graceSeconds) * 1000 + 300;
  let compared = 0;
  let crossed = 0;
  let refusedGlobal = 0;
  const stalled = async (timed: { crossed?: number }) => {
    if (timed.crossed === undefined) {
      compared++;
      return false;
    }
    crossed++;
    await time.pass(idleMs);
    await afterIdle();
    return true;
  };

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
      const project = PROJECTS[step.project]!;
      const quotas = engines[step.engine]!;
      if (step.op === 'decide') {
        const timed = await time.step(async () => {
          const answer = await quotas.isRateLimited(project, { quantity: step.quantity });
          // What the others hold, read at the same instant (they do not move meanwhile).
          const held = exact ? 0 : await othersHeld(step.engine, project);
          return { answer, held };
        }, boundaries);
        if (await stalled(timed)) continue;
        const { answer, held } = timed.value;
        const t = timed.fromMs;
        if (exact) {
          const expected = model.decide(project, step.quantity, t);
          expectModel(answer.isLimited, expected.isLimited, `${where} at ${t}: limited`);
          expectModel(answer.reasonCode, expected.reasonCode, `${where} at ${t}: reason`);
          expectModel(
            answer.limits?.map((l) => [l.scope, l.reasonCode]),
            expected.limits?.map((l) => [l.scope, l.reasonCode]),
            `${where} at ${t}: limits`,
          );
        } else if (answer.reasonCode === 'global_quota') {
          refusedGlobal++;
          const before = admitted.get(globalWindow(t)) ?? 0;
          expect(
            before + held + step.quantity,
            `${where} at ${t}: refused with ${before} admitted and ${held} held elsewhere`,
          ).toBeGreaterThan(s.globalLimit!);
        } else {
          const expected = model.decide(project, step.quantity, t);
          expectModel(answer.isLimited, expected.isLimited, `${where} at ${t}: project quota`);
        }
        if (!answer.isLimited) admit(step.quantity, t);
      } else if (step.op === 'refund') {
        const timed = await time.step(
          () => quotas.refund(project, { quantity: step.quantity }),
          boundaries,
        );
        if (await stalled(timed)) continue;
        model.refund(project, step.quantity, timed.fromMs);
        admit(-step.quantity, timed.fromMs);
      } else {
        const timed = await time.step(async () => {
          const usage = await quotas.getUsage(project);
          return { usage, held: exact ? 0 : await othersHeld(step.engine, project) };
        }, boundaries);
        if (await stalled(timed)) continue;
        const { usage, held } = timed.value;
        const t = timed.fromMs;
        const [globalUsed, projectUsed] = usage.map((u) => u.used);
        const expected = model.usage(project, t);
        if (exact) expectModel([globalUsed, projectUsed], expected, `${where} at ${t}: usage`);
        else {
          expectModel(projectUsed, expected[0], `${where} at ${t}: project usage`);
          // The counter less this engine's slice: what was admitted and what the others hold.
          const net = admitted.get(globalWindow(t)) ?? 0;
          expectModel(globalUsed, net + held, `${where} at ${t}: global usage`);
        }
      }
    }
  }
  return { compared, crossed, refusedGlobal };
}

describe('global quotas as time passes', () => {
  it('one engine on memory equals the model (half with a rejection cache): 200 sequences', async () => {
    const arbitrary = sequences({
      engines: 1,
      windows: [1, 2, 10, 60],
      globalLimits: [null, 1, 3, 5, 40, 400],
      projectLimits: [null, 2, 4, 30],
      graces: [0, 1, 60],
      quantities: fc.integer({ min: 0, max: 4 }),
      passMs: fc.oneof(
        fc.constantFrom(0, 999, 1000, 1001, 60_000),
        fc.integer({ min: 0, max: 3000 }),
      ),
      steps: 14,
      phases: 4,
    });
    await fc.assert(
      fc.asyncProperty(arbitrary, async (s) => {
        const clock = new ManualClock(Date.UTC(2026, 0, 1) + s.startMs);
        const time = manualTimeline(clock);
        await runSequence(s, memoryStoreOn(clock), 1, time, async () => {}, clock.now);
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('three engines on memory stay within the bound: 200 sequences', async () => {
    const arbitrary = sequences({
      engines: 3,
      windows: [1, 10, 60],
      globalLimits: [5, 40, 400],
      projectLimits: [null, 30, 300],
      graces: [0, 60],
      quantities: fc.integer({ min: 1, max: 12 }),
      passMs: fc.oneof(fc.constantFrom(0, 0, 999, 1001), fc.integer({ min: 0, max: 3000 })),
      steps: 30,
      phases: 3,
    });
    let refusals = 0;
    await fc.assert(
      fc.asyncProperty(arbitrary, async (s) => {
        const clock = new ManualClock(Date.UTC(2026, 0, 1) + s.startMs);
        const time = manualTimeline(clock);
        const counts = await runSequence(
          s,
          memoryStoreOn(clock),
          3,
          time,
          async () => {},
          clock.now,
        );
        refusals += counts.refusedGlobal;
      }),
      { seed: SEED, numRuns: 200 },
    );
    expect(refusals, 'global refusals checked against the bound').toBeGreaterThan(50);
  });

  it('a take that finds the store in a later window than the slice voids what the slice held', async () => {
    // The store's clock is hidden from the engine, as Redis TIME is: the engine follows it
    // through the offsets its takes see, and here the store's clock jumps a whole window.
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 0, 0, 10));
    const memory = memoryStoreOn(clock);
    const store: Store = {
      prefix: memory.prefix,
      clustered: false,
      run: (operation, args, timestampMs) => memory.run(operation, args, timestampMs),
    };
    const quota: QuotaConfig = {
      id: 'g',
      scope: 'global',
      // Slices of at most 3 units (1/100 of the limit), fewer than the decision below needs.
      limit: 300,
      windowSeconds: 60,
      reasonCode: 'global_quota',
    };
    const quotas = new Quotas({ store, getQuotas: () => [quota] });
    const project = PROJECTS[0]!;
    let held = 0;
    for (let i = 0; i < 50 && held === 0; i++) {
      await quotas.isRateLimited(project);
      held = (await quotas.getUsage(project))[0]!.held!;
    }
    expect(held, 'units held after a few decisions').toBeGreaterThan(0);
    clock.advance(60_000);
    // The engine still thinks it is in the old window: it sets aside what it holds, needs 4
    // more units, and its take finds the next window, where the held units are void: the take
    // must then grant the whole quantity, or the decision would be refused (or, granted only
    // the 4, would spend old units in the new window).
    expect((await quotas.isRateLimited(project, { quantity: held + 4 })).isLimited).toBe(false);
    const next = (Date.UTC(2026, 0, 1, 0, 1, 10) + 1) / 1000;
    const [usage] = await quotas.getUsage(project, { timestamp: next });
    expect(usage!.used, 'units counted in the new window').toBe(held + 4);
  });

  describe.concurrent.each(['redis', 'cluster'] as const)('on %s, in real time', (kind) => {
    const harness = useStore(kind);
    it('3 sequences at once of one and of three engines, 1-2 s windows, grace 0: counters leave Redis', async () => {
      const arbitrary = sequences({
        engines: 3,
        windows: [1, 2],
        globalLimits: [4, 12],
        projectLimits: [null, 10],
        graces: [0],
        quantities: fc.integer({ min: 1, max: 3 }),
        passMs: fc.constantFrom(0, 0, 150, 400),
        steps: 10,
        phases: 3,
      });
      let compared = 0;
      let crossed = 0;
      const samples = fc.sample(arbitrary, { seed: SEED, numRuns: 3 });
      await runAllSettled(
        samples.map((s, i) => ({ s, engines: i === 0 ? 1 : 3 })),
        async ({ s, engines }) => {
          const store = harness.store();
          // One engine uses engine 0 only: the steps of the others fall to it.
          const single = engines === 1 ? { ...s, phases: s.phases.map(oneEngine) } : s;
          const counts = await runSequence(
            single,
            store,
            engines,
            realTimeline({ marginMs: 300 }),
            async () => {
              expect(await harness.keyCount(store), 'keys left after the idle gap').toBe(0);
            },
          );
          compared += counts.compared;
          crossed += counts.crossed;
        },
      );
      expect(compared, `steps compared (${crossed} ran across a window start)`).toBeGreaterThan(
        crossed,
      );
    });
  });
});

function oneEngine(steps: Step[]): Step[] {
  return steps.map((step) => (step.op === 'pass' ? step : { ...step, engine: 0 }));
}
