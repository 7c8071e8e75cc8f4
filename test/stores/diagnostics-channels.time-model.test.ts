// The decision messages and the OpenTelemetry bridge's counters as time passes (issue 14 §2):
// random sequences of quota decisions (fast-check, fixed seed) with idle gaps longer than every
// window, on a memory store whose injected clock decides and expires, and on a real Redis with
// the same instants passed as timestamps. Each step must publish exactly one message that agrees
// with the fixed-window model (outcome, the rule that bound it, what it has left), and at the end
// the bridge's counters must equal what the model says was decided.
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import {
  DECISION_CHANNEL,
  type DecisionMessage,
  type QuotaConfig,
  Quotas,
  type Store,
} from '@sluice/core';
import { sluiceMetrics } from '@sluice/core/opentelemetry';
import { recordChannel } from '@sluice/test-support/channels';
import {
  expectModel,
  FixedWindowModel,
  ManualClock,
  type ModelProject,
  memoryStoreOn,
} from '@sluice/test-support/models';
import { useStore } from '@sluice/test-support/stores';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const SEED = 20_261_202;
const START_MS = Date.UTC(2026, 0, 1);

class CollectingReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

interface Sequence {
  readonly projectLimit: number;
  readonly organizationLimit: number;
  readonly steps: ReadonlyArray<{ readonly project: 0 | 1; quantity: number; passMs: number }>;
}

const sequences: fc.Arbitrary<Sequence> = fc.record({
  projectLimit: fc.integer({ min: 1, max: 5 }),
  organizationLimit: fc.integer({ min: 1, max: 8 }),
  steps: fc.array(
    fc.record({
      project: fc.constantFrom(0 as const, 1 as const),
      quantity: fc.integer({ min: 0, max: 3 }),
      // Mostly within a window, sometimes an idle gap past both windows (10 s and 30 s).
      passMs: fc.oneof(fc.integer({ min: 0, max: 4000 }), fc.constantFrom(10_000, 30_001, 120_000)),
    }),
    { minLength: 1, maxLength: 30 },
  ),
});

const PROJECTS: ModelProject[] = [
  { id: 1, organizationId: 7 },
  { id: 2, organizationId: 7 },
];

function configs(s: Sequence): QuotaConfig[] {
  return [
    {
      id: 'p',
      scope: 'project',
      limit: s.projectLimit,
      windowSeconds: 10,
      reasonCode: 'project_quota',
    },
    {
      id: 'o',
      scope: 'organization',
      limit: s.organizationLimit,
      windowSeconds: 30,
      reasonCode: 'org_quota',
    },
  ];
}

/** The message the model expects for a step, and the near-limit count it adds. */
function expected(
  model: FixedWindowModel,
  project: ModelProject,
  quantity: number,
  t: number,
): { message: Partial<DecisionMessage>; near: boolean } {
  const answer = model.decide(project, quantity, t);
  const usage = model.usage(project, t);
  const limits = model.quotas.map((q) => q.limit!);
  if (answer.isLimited) {
    const bound = model.quotas.findIndex((q) => q.reasonCode === answer.reasonCode);
    const message = {
      outcome: 'refused' as const,
      rule: model.quotas[bound]!.id,
      reason: answer.reasonCode!,
      limit: limits[bound]!,
      remaining: Math.max(0, limits[bound]! - usage[bound]!),
    };
    return { message, near: false };
  }
  // The enforced quota left with the fewest units, the first on a tie.
  let bound = 0;
  for (let i = 1; i < limits.length; i++) {
    if (limits[i]! - usage[i]! < limits[bound]! - usage[bound]!) bound = i;
  }
  const remaining = Math.max(0, limits[bound]! - usage[bound]!);
  const message = {
    outcome: 'admitted' as const,
    rule: model.quotas[bound]!.id,
    reason: model.quotas[bound]!.reasonCode,
    limit: limits[bound]!,
    remaining,
  };
  return { message, near: limits[bound]! - remaining > 0.8 * limits[bound]! };
}

/** Runs `s` on `store`; `at(t)` is the call's timestamp (undefined: the store's clock). */
async function run(
  s: Sequence,
  store: Store,
  clock: ManualClock,
  at: (t: number) => number | undefined,
): Promise<void> {
  const reader = new CollectingReader();
  const provider = new MeterProvider({ readers: [reader] });
  const bridge = sluiceMetrics({ meterProvider: provider });
  const decisions = recordChannel<DecisionMessage>(DECISION_CHANNEL);
  try {
    const quotas = new Quotas({ store, getQuotas: () => configs(s) });
    const model = new FixedWindowModel(configs(s) as never);
    const counted = new Map<string, number>();
    let near = 0;
    for (const [i, step] of s.steps.entries()) {
      clock.advance(step.passMs);
      const t = clock.now();
      const project = PROJECTS[step.project]!;
      const timestamp = at(t);
      await quotas.isRateLimited(project, {
        quantity: step.quantity,
        ...(timestamp === undefined ? {} : { timestamp }),
      });
      const want = expected(model, project, step.quantity, t);
      const got = decisions.take();
      expect(got, `step ${i}: one message`).toHaveLength(1);
      const { outcome, rule, reason, limit, remaining } = got[0]!;
      expectModel({ outcome, rule, reason, limit, remaining }, want.message, `step ${i}`);
      const key = `${want.message.outcome} ${want.message.rule}`;
      counted.set(key, (counted.get(key) ?? 0) + 1);
      if (want.near) near++;
    }
    const { resourceMetrics } = await reader.collect();
    const points = new Map(
      resourceMetrics.scopeMetrics
        .flatMap((scope) => scope.metrics)
        .map((metric) => [metric.descriptor.name, metric.dataPoints]),
    );
    const totals = new Map<string, number>();
    for (const point of points.get('sluice.decisions') ?? []) {
      const key = `${point.attributes.outcome} ${point.attributes.rule}`;
      totals.set(key, (totals.get(key) ?? 0) + (point.value as number));
    }
    expect(Object.fromEntries(totals)).toEqual(Object.fromEntries(counted));
    const nearTotal = (points.get('sluice.near_limit') ?? []).reduce(
      (sum, point) => sum + (point.value as number),
      0,
    );
    expect(nearTotal).toBe(near);
  } finally {
    decisions.stop();
    bridge.stop();
    await provider.shutdown();
  }
}

describe('decision messages and the bridge as time passes, against the model', () => {
  it('on memory, the injected clock deciding and expiring: 60 sequences', async () => {
    await fc.assert(
      fc.asyncProperty(sequences, async (s) => {
        const clock = new ManualClock(START_MS);
        await run(s, memoryStoreOn(clock), clock, () => undefined);
      }),
      { seed: SEED, numRuns: 60 },
    );
  });

  describe('on Redis', () => {
    const harness = useStore('redis');
    it('the same instants as timestamps: 20 sequences', async () => {
      await fc.assert(
        fc.asyncProperty(sequences, async (s) => {
          const clock = new ManualClock(START_MS);
          await run(s, harness.store(), clock, (t) => t / 1000);
        }),
        { seed: SEED, numRuns: 20 },
      );
    });
  });
});
