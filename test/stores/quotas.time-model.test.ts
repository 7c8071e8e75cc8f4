import { isDeepStrictEqual } from 'node:util';
import { type QuotaConfig, Quotas, type RateLimit, RejectionCache, type Store } from '@sluice/core';
import {
  expectModel,
  FixedWindowModel,
  ManualClock,
  type ModelProject,
  type ModelQuotaConfig,
  type ModelRateLimit,
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

/**
 * Fixed-window quotas (a project and an organization quota, all-or-nothing) while time passes:
 * random decisions, refunds and usage reads, with idle gaps longer than every window plus
 * grace between phases, so counters expire and their keys are written again. No call passes a
 * timestamp: on memory the store's injected clock decides and expires, on Redis its `TIME`.
 * Every answer is compared with {@link FixedWindowModel}, and every window's admitted units,
 * read from the answers alone, never exceed its limit. In some sequences one of the two quotas
 * is a `shadow` quota (sometimes a reject-all one): it never refuses, keeps counting, and is
 * reported exactly when the model says it would have refused.
 */

const SEED = 20_261_201;
/** Two projects of organization 7 and one of organization 12 (shifts 7 and 12 mod window). */
const PROJECTS: readonly ModelProject[] = [
  { id: 1, organizationId: 7 },
  { id: 2, organizationId: 7 },
  { id: 3, organizationId: 12 },
];

type Step =
  | { op: 'decide'; project: number; quantity: number }
  | { op: 'refund'; project: number; quantity: number }
  | { op: 'usage'; project: number }
  | { op: 'pass'; ms: number };

interface Sequence {
  projectLimit: number | null;
  projectWindow: number;
  organizationLimit: number | null;
  organizationWindow: number;
  graceSeconds: number;
  /** Ms after the first second of 2026 at which the sequence starts (memory only). */
  startMs: number;
  /** Whether full counters are remembered in a `RejectionCache` on the store's clock (memory only). */
  cached: boolean;
  /** The quota watched in shadow, if any; `rejectAll` makes it a `limit: 0` one. */
  shadow: 'none' | 'project' | 'organization';
  rejectAll: boolean;
  /** Steps, with an idle gap longer than every window plus grace between two phases. */
  phases: Step[][];
}

const projectIndex = fc.integer({ min: 0, max: PROJECTS.length - 1 });

function sequences(options: {
  windows: number[];
  projectLimits: Array<number | null>;
  organizationLimits: Array<number | null>;
  graces: number[];
  passMs: fc.Arbitrary<number>;
  steps: number;
  phases: number;
}): fc.Arbitrary<Sequence> {
  const step: fc.Arbitrary<Step> = fc.oneof(
    {
      weight: 6,
      arbitrary: fc.record({
        op: fc.constant('decide' as const),
        project: projectIndex,
        quantity: fc.integer({ min: 0, max: 3 }),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        op: fc.constant('refund' as const),
        project: projectIndex,
        quantity: fc.integer({ min: 1, max: 2 }),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({ op: fc.constant('usage' as const), project: projectIndex }),
    },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('pass' as const), ms: options.passMs }) },
  );
  return fc.record({
    projectLimit: fc.constantFrom(...options.projectLimits),
    projectWindow: fc.constantFrom(...options.windows),
    organizationLimit: fc.constantFrom(...options.organizationLimits),
    organizationWindow: fc.constantFrom(...options.windows),
    graceSeconds: fc.constantFrom(...options.graces),
    startMs: fc.integer({ min: 0, max: 3_600_000 }),
    cached: fc.boolean(),
    shadow: fc.constantFrom('none', 'none', 'project', 'organization'),
    rejectAll: fc.boolean(),
    phases: fc.array(fc.array(step, { minLength: 1, maxLength: options.steps }), {
      minLength: 2,
      maxLength: options.phases,
    }),
  });
}

function configsOf(s: Sequence): ModelQuotaConfig[] {
  const watched = (scope: 'project' | 'organization', limit: number | null) =>
    s.shadow === scope ? { shadow: true, limit: s.rejectAll ? 0 : limit } : { limit };
  return [
    {
      id: 'p',
      scope: 'project',
      windowSeconds: s.projectWindow,
      reasonCode: 'project_quota',
      ...watched('project', s.projectLimit),
    },
    {
      id: 'o',
      scope: 'organization',
      windowSeconds: s.organizationWindow,
      reasonCode: 'org_quota',
      ...watched('organization', s.organizationLimit),
    },
  ];
}

/**
 * The answer with its seconds read as whole milliseconds, as the model gives them. In real time
 * the store decided at an instant of `[fromMs, toMs + 1)`, so a time to the next window may be
 * up to that span shorter than the model's at `fromMs`: within it, it reads as the model's.
 */
function observed(
  result: RateLimit,
  expected: ModelRateLimit,
  span: { fromMs: number; toMs: number },
): ModelRateLimit {
  const slack = span.toMs + 1 - span.fromMs;
  const ms = (seconds: number, model: number | undefined) => {
    const actual = Math.round(seconds * 1000);
    return model !== undefined && actual <= model && actual >= model - slack ? model : actual;
  };
  const shadow =
    result.shadowLimits === undefined
      ? {}
      : {
          shadowLimits: result.shadowLimits.map((l, i) => ({
            scope: l.scope,
            reasonCode: l.reasonCode!,
            retryAfterMs: ms(l.retryAfter, expected.shadowLimits?.[i]?.retryAfterMs),
          })),
        };
  if (!result.isLimited) return { isLimited: false, ...shadow };
  return {
    isLimited: true,
    retryAfterMs: ms(result.retryAfter!, expected.retryAfterMs),
    reasonCode: result.reasonCode!,
    limits: (result.limits ?? []).map((l, i) => ({
      scope: l.scope,
      reasonCode: l.reasonCode!,
      retryAfterMs: ms(l.retryAfter, expected.limits?.[i]?.retryAfterMs),
    })),
    ...shadow,
  };
}

/**
 * Runs one sequence on `store` as `time` passes; `afterIdle` checks what the store holds.
 * Resolves to the number of steps compared and of steps that crossed a boundary (real time).
 */
async function runSequence(
  s: Sequence,
  store: Store,
  time: Timeline,
  afterIdle: () => Promise<void>,
  rejectionCache?: RejectionCache,
): Promise<{ compared: number; crossed: number }> {
  const configs = configsOf(s);
  const model = new FixedWindowModel(configs);
  const quotas = new Quotas({
    store,
    getQuotas: () => configs as QuotaConfig[],
    graceSeconds: s.graceSeconds,
    ...(rejectionCache === undefined ? {} : { rejectionCache }),
  });
  // Window starts of every quota for every organization: a Redis step keeps away from them.
  const boundaries = periodicBoundaries(
    configs.flatMap((q) =>
      PROJECTS.map((p) => ({
        periodMs: q.windowSeconds * 1000,
        offsetMs: (p.organizationId % q.windowSeconds) * 1000,
      })),
    ),
  );
  /** Units admitted minus refunded per quota window, from the answers alone. */
  const admitted = new Map<string, number>();
  const count = (project: ModelProject, units: number, t: number) => {
    for (const q of configs) {
      const scopeValue = q.scope === 'project' ? project.id : project.organizationId;
      const name = `${q.id}|${scopeValue}|${model.windowIndex(q, project, t)}`;
      const total = (admitted.get(name) ?? 0) + units;
      admitted.set(name, total);
      if (q.shadow !== true && q.limit !== null && units > 0 && total > q.limit) {
        expect.fail(`${name}: ${total} admitted, beyond the limit ${q.limit}`);
      }
    }
  };
  const idleMs = (Math.max(s.projectWindow, s.organizationWindow) + s.graceSeconds) * 1000 + 300;
  /**
   * After a step that ran across a window start (a stall longer than the margin), which window
   * it counted in is unknown: let every window pass, so that it no longer matters.
   */
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
      const project = PROJECTS[step.project]!;
      if (step.op === 'decide') {
        const timed = await time.step(
          () => quotas.isRateLimited(project, { quantity: step.quantity }),
          boundaries,
        );
        const { value, fromMs } = timed;
        if (await stalled(timed)) continue;
        const expected = model.decide(project, step.quantity, fromMs);
        const answer = observed(value, expected, timed);
        if (rejectionCache === undefined || !answer.isLimited) {
          expectModel(answer, expected, `${where} at ${fromMs}`);
        } else {
          // A remembered refusal names only the full quotas it remembers, each as the store would.
          expectModel(answer.isLimited, expected.isLimited, `${where} at ${fromMs}: limited`);
          for (const limit of answer.limits ?? []) {
            if (!expected.limits?.some((l) => isDeepStrictEqual(l, limit))) {
              expect(answer, `${where} at ${fromMs}: a limit the model did not give`).toEqual(
                expected,
              );
            }
          }
        }
        if (!value.isLimited) count(project, step.quantity, fromMs);
      } else if (step.op === 'refund') {
        const timed = await time.step(
          () => quotas.refund(project, { quantity: step.quantity }),
          boundaries,
        );
        const { fromMs } = timed;
        if (await stalled(timed)) continue;
        model.refund(project, step.quantity, fromMs);
        count(project, -step.quantity, fromMs);
      } else {
        const timed = await time.step(() => quotas.getUsage(project), boundaries);
        const { value, fromMs } = timed;
        if (await stalled(timed)) continue;
        expectModel(
          value.map((u) => u.used),
          model.usage(project, fromMs).map((used, q) => (configs[q]!.limit === 0 ? null : used)),
          `${where} at ${fromMs}`,
        );
      }
    }
  }
  return { compared, crossed };
}

describe('Quotas as time passes, against the model', () => {
  it('on memory, the injected clock deciding and expiring (half with a rejection cache on it): 300 sequences', async () => {
    const arbitrary = sequences({
      windows: [1, 2, 10, 60, 3600],
      projectLimits: [null, 1, 2, 3, 5],
      organizationLimits: [null, 2, 4, 8],
      graces: [0, 1, 60],
      passMs: fc.oneof(
        fc.constantFrom(0, 1, 999, 1000, 1001, 10_000, 60_000),
        fc.integer({ min: 0, max: 3000 }),
      ),
      steps: 12,
      phases: 4,
    });
    await fc.assert(
      fc.asyncProperty(arbitrary, async (s) => {
        const clock = new ManualClock(Date.UTC(2026, 0, 1) + s.startMs);
        const cache = s.cached ? new RejectionCache({ now: clock.now }) : undefined;
        await runSequence(s, memoryStoreOn(clock), manualTimeline(clock), async () => {}, cache);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  // Real time passes for the Redis and the Cluster sequences together.
  describe.concurrent.each(['redis', 'cluster'] as const)('on %s, in real time', (kind) => {
    const harness = useStore(kind);
    it('4 sequences at once, 1-2 s windows, grace 0: expired counters leave Redis', async () => {
      const arbitrary = sequences({
        windows: [1, 2],
        projectLimits: [1, 2, 3],
        organizationLimits: [null, 2, 4],
        graces: [0],
        passMs: fc.constantFrom(0, 0, 150, 400),
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
      expect(compared, `steps compared (${crossed} ran across a window start)`).toBeGreaterThan(
        crossed,
      );
    });
  });
});
