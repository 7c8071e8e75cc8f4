import {
  DECISION_CHANNEL,
  type DecisionMessage,
  InvalidConfiguration,
  type Operation,
  type Project,
  type QuotaConfig,
  Quotas,
  type Store,
  StoreUnavailableError,
} from '@sluice/core';
import { recordChannel } from '@sluice/test-support/channels';
import { processView, STORE_KINDS, useStore } from '@sluice/test-support/stores';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

/**
 * Global quotas (`scope: 'global'`) on every store: one counter for every organization and
 * engine, spent from slices each engine takes in one atomic step. Several `Quotas` engines on
 * one store stand for several processes.
 */

const SEED = 20_261_202;
/** A timestamp at which a 60 s global window (aligned on the epoch) starts exactly. */
const T0 = 1_700_000_040;
const projectA: Project = { id: 1, organizationId: 7 };
const projectB: Project = { id: 2, organizationId: 8 };

const global = (limit: number | null, extra: Partial<QuotaConfig> = {}): QuotaConfig => ({
  id: 'g',
  scope: 'global',
  limit,
  windowSeconds: 60,
  reasonCode: 'global_quota',
  ...extra,
});

/** `store`, counting the calls made through it (and answering asynchronously, as Redis does). */
function counting(store: Store): { store: Store; calls: () => number } {
  let calls = 0;
  const counted: Store = {
    prefix: store.prefix,
    clustered: store.clustered,
    ...(store.clock === undefined ? {} : { clock: store.clock }),
    run<A, R>(operation: Operation<A, R>, args: A, timestampMs?: number) {
      calls++;
      return store.run(operation, args, timestampMs);
    },
  };
  return { store: counted, calls: () => calls };
}

describe.each(STORE_KINDS)('global quotas on %s', (kind) => {
  const harness = useStore(kind);
  const engine = (store: Store, quotas: QuotaConfig[]) =>
    new Quotas({ store, getQuotas: () => quotas });

  it('one limit for every organization: the 6th unit of 5 is refused, scope global, retry at the window end', async () => {
    const quotas = engine(harness.store(), [global(5)]);
    const answers = [];
    for (let i = 0; i < 6; i++) {
      const project = i % 2 === 0 ? projectA : projectB;
      answers.push(await quotas.isRateLimited(project, { timestamp: T0 + 10 }));
    }
    expect(answers.map((a) => a.isLimited)).toEqual([false, false, false, false, false, true]);
    const refusal = answers[5]!;
    expect(refusal.reasonCode).toBe('global_quota');
    expect(refusal.retryAfter).toBeCloseTo(50, 6);
    expect(refusal.limits).toEqual([
      {
        retryAfter: refusal.retryAfter,
        categories: [],
        scope: 'global',
        reasonCode: 'global_quota',
      },
    ]);
    // The next window (aligned on the epoch, not on an organization) admits again.
    expect((await quotas.isRateLimited(projectB, { timestamp: T0 + 60 })).isLimited).toBe(false);
  });

  it('slices: 200 decisions of one engine cost far fewer store calls, and usage is exact', async () => {
    const { store, calls } = counting(harness.store());
    const quotas = engine(store, [global(100_000)]);
    for (let i = 0; i < 200; i++) {
      expect((await quotas.isRateLimited(projectA, { timestamp: T0 + 1 })).isLimited).toBe(false);
    }
    expect(calls()).toBeLessThanOrEqual(20);
    const [usage] = await quotas.getUsage(projectA, { timestamp: T0 + 1 });
    expect(usage!.used).toBe(200);
    expect(usage!.held).toBeGreaterThan(0);
    // The counter holds what was spent and what this engine holds: no more.
    const key = `${store.prefix}:global:{g}:60:${Math.floor((T0 + 1) / 60)}`;
    const pttl = await harness.pttl(store, key, (T0 + 60) * 1000);
    expect(pttl).toBeGreaterThan(0);
  });

  it('the counter expires with its window plus grace', async () => {
    const store = harness.store();
    const quotas = new Quotas({ store, getQuotas: () => [global(10)], graceSeconds: 5 });
    await quotas.isRateLimited(projectA, { timestamp: T0 + 20 });
    const key = `${store.prefix}:global:{g}:60:${T0 / 60}`;
    const pttl = await harness.pttl(store, key, (T0 + 60) * 1000);
    // Window end (T0 + 60) + grace 5, seen from T0 + 20: 45 s; a real clock has moved on.
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(45_001);
  });

  it('a refusal by a project quota gives the global units back', async () => {
    const quotas = engine(harness.store(), [
      global(3),
      { id: 'p', scope: 'project', limit: 1, windowSeconds: 60, reasonCode: 'project_quota' },
    ]);
    expect((await quotas.isRateLimited(projectA, { timestamp: T0 })).isLimited).toBe(false);
    const second = await quotas.isRateLimited(projectA, { timestamp: T0 });
    expect(second.reasonCode).toBe('project_quota');
    // Project B (its own project counter) gets the two global units left.
    expect((await quotas.isRateLimited(projectB, { timestamp: T0 })).isLimited).toBe(false);
    expect((await quotas.isRateLimited(projectB, { timestamp: T0 })).isLimited).toBe(true);
    const usage = await quotas.getUsage(projectB, { timestamp: T0 });
    expect(usage.map((u) => u.used)).toEqual([2, 1]);
    expect((await quotas.isRateLimited(projectB, { timestamp: T0 })).reasonCode).toBe(
      'project_quota',
    );
  });

  it('a global refusal counts nothing on the other quotas', async () => {
    const quotas = engine(harness.store(), [
      global(1),
      { id: 'p', scope: 'project', limit: 5, windowSeconds: 60, reasonCode: 'project_quota' },
    ]);
    await quotas.isRateLimited(projectA, { timestamp: T0 });
    const refused = await quotas.isRateLimited(projectA, { timestamp: T0 });
    expect(refused.reasonCode).toBe('global_quota');
    const usage = await quotas.getUsage(projectA, { timestamp: T0 });
    expect(usage.map((u) => u.used)).toEqual([1, 1]);
  });

  it('a refund gives units back to the slice; check-only calls count nothing', async () => {
    const quotas = engine(harness.store(), [global(2)]);
    const at = { timestamp: T0 };
    expect((await quotas.isRateLimited(projectA, { ...at, quantity: 2 })).isLimited).toBe(false);
    expect((await quotas.isRateLimited(projectA, { ...at, quantity: 0 })).isLimited).toBe(true);
    await quotas.refund(projectA, at);
    expect((await quotas.isRateLimited(projectA, { ...at, quantity: 0 })).isLimited).toBe(false);
    expect((await quotas.isRateLimited(projectA, at)).isLimited).toBe(false);
    expect((await quotas.isRateLimited(projectA, at)).isLimited).toBe(true);
    expect((await quotas.getUsage(projectA, at)).map((u) => u.used)).toEqual([2]);
  });

  it('reset({ global: true }) clears the counter and this engine slice; a plain reset leaves it', async () => {
    const quotas = engine(harness.store(), [global(2)]);
    const at = { timestamp: T0 };
    await quotas.isRateLimited(projectA, { ...at, quantity: 2 });
    expect(await quotas.reset(projectA, at)).toEqual([]);
    expect((await quotas.isRateLimited(projectA, at)).isLimited).toBe(true);
    const cleared = await quotas.reset(projectA, { ...at, global: true });
    expect(cleared.map((c) => [c.quota.id, c.removed])).toEqual([['g', 2]]);
    expect((await quotas.isRateLimited(projectA, { ...at, quantity: 2 })).isLimited).toBe(false);
  });

  it('limit null counts and never refuses; a shadow global quota only reports', async () => {
    const quotas = engine(harness.store(), [
      global(null),
      global(1, { id: 's', shadow: true, reasonCode: 'shadow_global' }),
    ]);
    const first = await quotas.isRateLimited(projectA, { timestamp: T0, quantity: 3 });
    expect(first.isLimited).toBe(false);
    expect(first.shadowLimits?.map((l) => [l.scope, l.reasonCode])).toEqual([
      ['global', 'shadow_global'],
    ]);
    const usage = await quotas.getUsage(projectA, { timestamp: T0 });
    expect(usage.map((u) => u.used)).toEqual([3, 0]);
  });

  it('the engines of one process on one store share their slices', async () => {
    const { store, calls } = counting(harness.store());
    const [first, second] = [0, 1].map(() => engine(store, [global(100_000)]));
    for (let i = 0; i < 100; i++) {
      await first!.isRateLimited(projectA, { timestamp: T0 + 1 });
      await second!.isRateLimited(projectA, { timestamp: T0 + 1 });
    }
    expect(calls()).toBeLessThanOrEqual(20);
    const [a, b] = [
      await first!.getUsage(projectA, { timestamp: T0 + 1 }),
      await second!.getUsage(projectA, { timestamp: T0 + 1 }),
    ];
    expect(a).toEqual(b);
    expect(a[0]!.used).toBe(200);
  });

  it('while the store fails, a process spends what its slice holds; then a take fails', async () => {
    const inner = harness.store();
    let failing = false;
    const store: Store = {
      prefix: inner.prefix,
      clustered: inner.clustered,
      run(operation, args, timestampMs) {
        if (!failing) return inner.run(operation, args, timestampMs);
        return Promise.reject(new StoreUnavailableError('store down', { timedOut: false }));
      },
    };
    const quotas = engine(store, [global(100_000)]);
    for (let i = 0; i < 50; i++) await quotas.isRateLimited(projectA, { timestamp: T0 });
    const [usage] = await quotas.getUsage(projectA, { timestamp: T0 });
    expect(usage!.held).toBeGreaterThan(0);
    failing = true;
    for (let i = 0; i < usage!.held!; i++) {
      expect((await quotas.isRateLimited(projectA, { timestamp: T0 })).isLimited).toBe(false);
    }
    const error = await quotas.isRateLimited(projectA, { timestamp: T0 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    // The failed take took nothing from the slice: back up, the next decision takes anew.
    failing = false;
    expect((await quotas.isRateLimited(projectA, { timestamp: T0 })).isLimited).toBe(false);
    expect((await quotas.getUsage(projectA, { timestamp: T0 }))[0]!.used).toBe(
      50 + usage!.held! + 1,
    );
  });

  it('one sluice:decision message per call, naming the quota that bound it', async () => {
    const decisions = recordChannel<DecisionMessage>(DECISION_CHANNEL);
    try {
      const alone = engine(harness.store(), [global(2)]);
      for (let i = 0; i < 3; i++) await alone.isRateLimited(projectA, { timestamp: T0 });
      const withProject = engine(harness.store(), [
        global(10),
        { id: 'p', scope: 'project', limit: 1, windowSeconds: 60, reasonCode: 'project_quota' },
      ]);
      for (let i = 0; i < 2; i++) await withProject.isRateLimited(projectA, { timestamp: T0 });
      expect(decisions.messages.map((m) => [m.outcome, m.rule, m.remaining])).toEqual([
        ['admitted', 'g', 1],
        ['admitted', 'g', 0],
        ['refused', 'g', 0],
        ['admitted', 'p', 0],
        ['refused', 'p', 0],
      ]);
    } finally {
      decisions.stop();
    }
  });

  it('a global quota with a scopeId is an InvalidConfiguration naming it', async () => {
    const quotas = engine(harness.store(), [global(5, { scopeId: '7' })]);
    const error = await quotas.isRateLimited(projectA).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidConfiguration);
    expect((error as InvalidConfiguration).option).toBe('getQuotas()[0].scopeId');
  });

  it('three engines, random quantities: never more than the limit, refused only within what the others hold', async () => {
    const limit = 500;
    const sequences = fc.sample(
      fc.array(
        fc.record({
          engine: fc.integer({ min: 0, max: 2 }),
          quantity: fc.integer({ min: 1, max: 20 }),
        }),
        {
          minLength: 60,
          maxLength: 80,
        },
      ),
      { seed: SEED, numRuns: 3 },
    );
    for (const steps of sequences) {
      const store = harness.store();
      // Three processes: each engine on its own view of the store holds its own slices.
      const engines = [0, 1, 2].map(() =>
        engine(processView(store), [global(limit, { id: 'fleet' })]),
      );
      let admitted = 0;
      let refused = 0;
      for (const { engine: e, quantity } of steps) {
        const answer = await engines[e]!.isRateLimited(projectA, { quantity, timestamp: T0 });
        if (!answer.isLimited) {
          admitted += quantity;
          expect(admitted).toBeLessThanOrEqual(limit);
          continue;
        }
        refused++;
        let othersHeld = 0;
        for (const [i, other] of engines.entries()) {
          if (i !== e) othersHeld += (await other.getUsage(projectA, { timestamp: T0 }))[0]!.held!;
        }
        expect(admitted + othersHeld + quantity).toBeGreaterThan(limit);
      }
      // The sequences ask for more than the limit: the bound was put to the test.
      expect(refused).toBeGreaterThan(0);
      expect(admitted).toBeGreaterThan(limit - 3 * 20);
    }
  });
});
