// Metrics people can read (issue 14 §2): every engine decision is published on sluice:decision
// and every store call on sluice:store, on memory and on a real Redis; nothing is published (nor
// built) while a channel has no subscriber.
import { channel } from 'node:diagnostics_channel';
import {
  ConcurrencyLimiter,
  DECISION_CHANNEL,
  type DecisionMessage,
  type Project,
  Quota,
  type QuotaConfig,
  Quotas,
  RejectionCache,
  SlidingWindowRateLimiter,
  STORE_CHANNEL,
  type StoreCallMessage,
  StoreUnavailableError,
} from '@sluice/core';
import { RedisStore } from '@sluice/core/redis';
import { recordChannel } from '@sluice/test-support/channels';
import { freePort } from '@sluice/test-support/redis';
import { useStore } from '@sluice/test-support/stores';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';

const WINDOW_SECONDS = 864_000;
/**
 * Decisions here run on the store's clock (the rejection cache needs it): the organization id
 * is the window shift that puts the next window start half a window (5 days) from now, so no
 * window rolls over during the test.
 */
const project: Project = {
  id: 42,
  organizationId: Math.floor(Date.now() / 1000 + WINDOW_SECONDS / 2) % WINDOW_SECONDS,
};
const enforced: QuotaConfig = {
  id: 'p',
  scope: 'project',
  limit: 2,
  windowSeconds: WINDOW_SECONDS,
  reasonCode: 'project_quota',
};
const watched: QuotaConfig = {
  ...enforced,
  id: 'new',
  limit: 1,
  reasonCode: 'new_rule',
  shadow: true,
};
const rejectAll: QuotaConfig = { ...enforced, id: 'off', limit: 0, reasonCode: 'disabled' };
const T0 = 1_700_000_047;

/** The fields a test compares: everything but the project object and the undefined ones. */
function fields(message: DecisionMessage): Partial<DecisionMessage> {
  const { project: _project, ...rest } = message;
  return rest;
}

describe.each(['memory', 'redis'] as const)('diagnostics channels on %s', (kind) => {
  const harness = useStore(kind);
  const recordings: Array<{ stop(): void }> = [];
  const record = <T>(name: string) => {
    const recording = recordChannel<T>(name);
    recordings.push(recording);
    return recording;
  };
  afterEach(() => {
    for (const recording of recordings.splice(0)) recording.stop();
    vi.restoreAllMocks();
  });

  it('without a subscriber, no decision and no store call is published', async () => {
    const decisions = channel(DECISION_CHANNEL);
    const calls = channel(STORE_CHANNEL);
    expect(decisions.hasSubscribers).toBe(false);
    expect(calls.hasSubscribers).toBe(false);
    const published = [vi.spyOn(decisions, 'publish'), vi.spyOn(calls, 'publish')];
    const store = harness.store();
    const quotas = new Quotas({
      store,
      getQuotas: () => [enforced, watched],
      rejectionCache: new RejectionCache(),
    });
    // Admitted, shadow-refused, refused, then refused from the cache; a reject-all quota.
    for (let i = 0; i < 4; i++) await quotas.isRateLimited(project);
    await new Quotas({ store, getQuotas: () => [rejectAll] }).isRateLimited(project);
    const windows = new SlidingWindowRateLimiter(store);
    const request = {
      prefix: 'org:1',
      requested: 1,
      quotas: [new Quota({ windowSeconds: 60, granularitySeconds: 10, limit: 1 })],
    };
    await windows.checkAndUseQuotas([request], T0);
    await windows.checkAndUseQuotas([request], T0);
    const limiter = new ConcurrencyLimiter(store, { limit: 1 });
    const lease = await limiter.acquire('k');
    expect(await limiter.acquire('k')).toBeNull();
    await lease!.release();
    for (const spy of published) expect(spy).not.toHaveBeenCalled();
  });

  it('without a subscriber, store calls are not even timed; with one, each is', async () => {
    const clock = vi.spyOn(performance, 'now');
    const quotas = new Quotas({ store: harness.store(), getQuotas: () => [enforced] });
    await quotas.isRateLimited(project);
    await quotas.isRateLimited(project, { timestamp: T0 });
    expect(clock).not.toHaveBeenCalled();
    const calls = record<StoreCallMessage>(STORE_CHANNEL);
    await quotas.isRateLimited(project, { timestamp: T0 });
    expect(calls.messages).toHaveLength(1);
    expect(clock).toHaveBeenCalledTimes(2);
  });

  it('quotas: one decision per call, naming the rule that bound it, its limit and what is left', async () => {
    const decisions = record<DecisionMessage>(DECISION_CHANNEL);
    const calls = record<StoreCallMessage>(STORE_CHANNEL);
    const quotas = new Quotas({
      store: harness.store(),
      getQuotas: () => [enforced, watched],
      rejectionCache: new RejectionCache(),
    });
    const results = [];
    for (let i = 0; i < 4; i++) {
      results.push(await quotas.isRateLimited(project, { category: 'error' }));
    }
    expect(results.map((r) => r.isLimited)).toEqual([false, false, true, true]);
    const common = { engine: 'quota', category: 'error', local: false, limit: 2 } as const;
    expect(decisions.messages.map(fields)).toEqual([
      {
        ...common,
        outcome: 'admitted',
        rule: 'p',
        reason: 'project_quota',
        remaining: 1,
        fromCache: false,
        shadow: false,
      },
      // The shadow quota would have refused; the enforced one still had room.
      {
        ...common,
        outcome: 'shadow_refused',
        rule: 'new',
        reason: 'new_rule',
        limit: 1,
        fromCache: false,
        shadow: true,
      },
      {
        ...common,
        outcome: 'refused',
        rule: 'p',
        reason: 'project_quota',
        remaining: 0,
        fromCache: false,
        shadow: false,
      },
      {
        ...common,
        outcome: 'refused',
        rule: 'p',
        reason: 'project_quota',
        remaining: 0,
        fromCache: true,
        shadow: false,
      },
    ]);
    expect(decisions.messages.every((m) => m.project === project)).toBe(true);
    // Three store calls: the cached refusal made none.
    const store = kind === 'memory' ? 'memory' : 'redis';
    expect(calls.messages.map((m) => [m.store, m.operation, m.error])).toEqual(
      Array(3).fill([store, 'sluice_quotas_decide', undefined]),
    );
    for (const { durationMs } of calls.messages) {
      expect(durationMs).toBeGreaterThanOrEqual(0);
      expect(durationMs).toBeLessThan(2000);
    }
  });

  it('a reject-all quota is a refusal with a limit of 0 and no store call', async () => {
    const decisions = record<DecisionMessage>(DECISION_CHANNEL);
    const calls = record<StoreCallMessage>(STORE_CHANNEL);
    const quotas = new Quotas({ store: harness.store(), getQuotas: () => [rejectAll, enforced] });
    expect((await quotas.isRateLimited(project)).isLimited).toBe(true);
    expect(decisions.messages.map(fields)).toEqual([
      {
        engine: 'quota',
        outcome: 'refused',
        rule: 'off',
        reason: 'disabled',
        limit: 0,
        remaining: 0,
        fromCache: false,
        shadow: false,
        local: false,
      },
    ]);
    expect(calls.messages).toEqual([]);
  });

  it('sliding windows: one decision per request, named after the window that cut the grant', async () => {
    const decisions = record<DecisionMessage>(DECISION_CHANNEL);
    const limiter = new SlidingWindowRateLimiter(harness.store());
    const minute = new Quota({ windowSeconds: 60, granularitySeconds: 10, limit: 3 });
    const tenSeconds = new Quota({ windowSeconds: 10, granularitySeconds: 1, limit: 2 });
    const request = { prefix: 'org:1', requested: 2, quotas: [minute, tenSeconds] };
    const [first] = await limiter.checkAndUseQuotas([request], T0);
    const [second] = await limiter.checkAndUseQuotas([request], T0);
    const [, [third]] = await limiter.checkWithinQuotas([{ ...request, requested: 1 }], T0 + 60);
    expect([first!.granted, second!.granted, third!.granted]).toEqual([2, 0, 1]);
    const common = {
      engine: 'window',
      key: 'org:1',
      reason: 'sliding_window',
      fromCache: false,
      shadow: false,
      local: false,
    } as const;
    expect(decisions.messages.map(fields)).toEqual([
      // Admitted: the 10 s window is the one left with the fewest units (0 of 2).
      { ...common, outcome: 'admitted', rule: 'window_10s', limit: 2, remaining: 0 },
      // Refused: the 10 s window cut the grant last.
      { ...common, outcome: 'refused', rule: 'window_10s', limit: 2, remaining: 0 },
      // A minute later both windows are empty again, and a check takes nothing from them.
      { ...common, outcome: 'admitted', rule: 'window_10s', limit: 2, remaining: 2 },
    ]);
  });

  it('concurrency: a lease granted, then a wait that ends without one', async () => {
    const decisions = record<DecisionMessage>(DECISION_CHANNEL);
    const limiter = new ConcurrencyLimiter(harness.store(), { limit: 1 });
    const lease = await limiter.acquire('snuba');
    expect(await limiter.acquire('snuba', { waitSeconds: 0 })).toBeNull();
    await lease!.release();
    const common = {
      engine: 'concurrency',
      rule: 'concurrency',
      reason: 'concurrency_limit',
      key: 'snuba',
      limit: 1,
      remaining: 0,
      fromCache: false,
      shadow: false,
      local: false,
    } as const;
    expect(decisions.messages.map(fields)).toEqual([
      { ...common, outcome: 'admitted' },
      { ...common, outcome: 'refused' },
    ]);
  });
});

describe('diagnostics channels on an unreachable Redis', () => {
  it('a failed store call is published with its error, and no decision', async () => {
    const client = new Redis(`redis://127.0.0.1:${await freePort()}`, {
      maxRetriesPerRequest: 1,
      retryStrategy: () => 50,
    });
    client.on('error', () => undefined);
    const decisions = recordChannel<DecisionMessage>(DECISION_CHANNEL);
    const calls = recordChannel<StoreCallMessage>(STORE_CHANNEL);
    try {
      const store = new RedisStore(client, { prefix: 'unreachable', timeoutMs: 100 });
      const quotas = new Quotas({ store, getQuotas: () => [enforced] });
      await expect(quotas.isRateLimited(project)).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(decisions.messages).toEqual([]);
      expect(calls.messages).toHaveLength(1);
      const [call] = calls.messages;
      expect(call!.operation).toBe('sluice_quotas_decide');
      expect(call!.error).toBeInstanceOf(StoreUnavailableError);
      // Within the deadline plus the shared machine's slack.
      expect(call!.durationMs).toBeLessThan(100 + 100);
    } finally {
      decisions.stop();
      calls.stop();
      client.disconnect();
    }
  });
});
