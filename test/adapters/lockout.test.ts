// Lockout over HTTP (issue 16 §3), on every framework: refusals by any rule lock a project out
// with backoff; while locked out it is refused before every other rule, with well-formed
// headers whose Retry-After shrinks, nothing counted and no store call (counted on a real
// Redis with MONITOR); a reset lifts it.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import {
  DECISION_CHANNEL,
  type DecisionMessage,
  MemoryStore,
  Quota,
  type QuotaConfig,
  type Store,
  StoreUnavailableError,
} from '@sluice/core';
import { RedisStore } from '@sluice/core/redis';
import { recordEvents } from '@sluice/test-support/events';
import { FRAMEWORKS, type TestApp } from '@sluice/test-support/frameworks';
import { ManualClock } from '@sluice/test-support/models';
import { countingStore, PROJECTS, resolveProject, sentryAuth } from '@sluice/test-support/projects';
import { sdkRateLimits, strictRateLimits } from '@sluice/test-support/sentry-rate-limits';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';

const auth = sentryAuth(PROJECTS.one.key);
/** Two requests per 10 s per project. */
const quota: QuotaConfig = {
  id: 'p',
  scope: 'project',
  limit: 2,
  windowSeconds: 10,
  reasonCode: 'project_quota',
};
const lockout = { after: 2, withinSeconds: 60, blockSeconds: 30, backoff: 2 };

/**
 * A memory store on a manual clock, its calls counted (the clock kept, which the lockout's
 * memory follows). The rejection cache ages only a bare MemoryStore's refusals on its clock, so
 * the apps on this one turn the cache off (`rejectionCacheMaxSeconds: 0`).
 */
function clockedStore(clock: ManualClock): Store & { calls: number } {
  const inner = new MemoryStore({ clock: clock.now });
  return Object.assign(countingStore(inner), { clock: inner.clock });
}

describe.each(FRAMEWORKS)('lockout: $name', (framework) => {
  let app: TestApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });
  const send = () => app!.request({ path: '/api/1/store/', headers: auth });

  it('two refusals lock out for 30 s, then 60 s; refused first, shrinking, nothing counted, no store call', async () => {
    const clock = new ManualClock(1_767_225_600_000);
    const store = clockedStore(clock);
    app = await framework.build({
      options: { store, resolveProject, quotas: [quota], lockout, rejectionCacheMaxSeconds: 0 },
    });
    const events = recordEvents(app.limiter);
    expect([(await send()).status, (await send()).status]).toEqual([200, 200]);
    const first = await send();
    expect(first.headers['x-sentry-rate-limit-reason']).toBe('project_quota');
    // The second refusal starts the block: its answer already says so.
    const starting = await send();
    expect(starting.status).toBe(429);
    expect(starting.headers['retry-after']).toBe('30');
    expect(starting.headers['x-sentry-rate-limit-reason']).toBe('lockout');
    const entries = strictRateLimits(starting.headers['x-sentry-rate-limits']!);
    expect(entries.map((e) => `${e.categories.join(';')}:${e.scope}:${e.reasonCode}`)).toEqual([
      ':project:project_quota',
      ':project:lockout',
    ]);
    expect(entries[1]!.retryAfter).toBe(30);
    events.take();

    const calls = store.calls;
    const retryAfters: string[] = [];
    for (const ms of [10_000, 10_000, 9_500]) {
      clock.advance(ms);
      const res = await send();
      expect(res.status).toBe(429);
      expect(res.headers['x-sentry-rate-limit-reason']).toBe('lockout');
      expect(strictRateLimits(res.headers['x-sentry-rate-limits']!)).toEqual([
        {
          retryAfter: Number(res.headers['retry-after']),
          categories: [],
          scope: 'project',
          reasonCode: 'lockout',
        },
      ]);
      // What a Sentry SDK concludes: every category, for the rest of the block.
      expect(sdkRateLimits(res, 0)).toEqual({ all: Number(res.headers['retry-after']) * 1000 });
      expect(res.body).toContain('rate_limit');
      retryAfters.push(res.headers['retry-after']!);
    }
    expect(retryAfters).toEqual(['20', '10', '1']);
    expect(store.calls - calls, 'store calls while locked out').toBe(0);
    const dropped = events.take().flatMap((e) => (e.name === 'event_dropped' ? [e.event] : []));
    expect(dropped.map((e) => [e.reasonCode, e.retryAfter, e.shadow])).toEqual([
      ['lockout', 20, false],
      ['lockout', 10, false],
      ['lockout', 0.5, false],
    ]);

    // The block over (and the quota's window long gone), nothing was counted while it lasted.
    clock.advance(500);
    expect([(await send()).status, (await send()).status]).toEqual([200, 200]);
    // A repeat offence: twice as long.
    await send();
    const again = await send();
    expect(again.headers['retry-after']).toBe('60');
  });

  it('a reset lifts the lockout: the next request meets the other rules again', async () => {
    const clock = new ManualClock(1_767_225_600_000);
    app = await framework.build({
      options: {
        store: clockedStore(clock),
        resolveProject,
        quotas: [quota],
        lockout,
        rejectionCacheMaxSeconds: 0,
      },
    });
    for (let i = 0; i < 4; i++) await send();
    expect((await send()).headers['x-sentry-rate-limit-reason']).toBe('lockout');
    expect(await app.limiter.resetLockout(PROJECTS.one.id)).toBe(true);
    // The quota is still full: refused by it, and counting towards a lockout from nothing.
    const res = await send();
    expect(res.headers['x-sentry-rate-limit-reason']).toBe('project_quota');
    clock.advance(10_000);
    expect((await send()).status).toBe(200);
    expect(await app.limiter.resetLockout('unknown')).toBe(false);
  });

  it('a route inherits the limiter lockout: one engine, one memory, one reset', async () => {
    const clock = new ManualClock(1_767_225_600_000);
    const store = clockedStore(clock);
    app = await framework.build({
      options: { store, resolveProject, quotas: [quota], lockout, rejectionCacheMaxSeconds: 0 },
      route: {},
    });
    for (let i = 0; i < 4; i++) await send();
    const calls = store.calls;
    // The route stage alone (no app-level limiter before it) knows the block already.
    const solo = () => app!.request({ path: '/solo/api/1/routed/', headers: auth });
    expect((await solo()).headers['x-sentry-rate-limit-reason']).toBe('lockout');
    expect(store.calls - calls).toBe(0);
    await app.limiter.resetLockout(1);
    expect((await solo()).headers['x-sentry-rate-limit-reason']).toBe('project_quota');
  });

  it('bad lockout options throw InvalidConfiguration naming them', async () => {
    for (const [options, option] of [
      [{ ...lockout, after: 0 }, 'lockout.after'],
      [{ ...lockout, blockSeconds: undefined }, 'lockout.blockSeconds'],
      [{ ...lockout, backoff: 0.5 }, 'lockout.backoff'],
      [{ ...lockout, maxBlockSeconds: 1 }, 'lockout.maxBlockSeconds'],
      [{ ...lockout, key: 'ip' }, 'lockout.key'],
      [{ ...lockout, reasonCode: 'locked out' }, 'lockout.reasonCode'],
      [{ ...lockout, shadow: 'yes' }, 'lockout.shadow'],
      [{ ...lockout, blockDuration: 5 }, 'lockout.blockDuration'],
      [7, 'lockout'],
    ] as const) {
      await expect(
        framework.build({ options: { resolveProject, lockout: options as never } }),
      ).rejects.toMatchObject({ name: 'InvalidConfiguration', option });
    }
  });

  it('a failing store while checking follows onStoreError: deny answers 503', async () => {
    const failing: Store = {
      prefix: 'f',
      clustered: false,
      run: () => Promise.reject(new StoreUnavailableError('down', { timedOut: false })),
    };
    app = await framework.build({
      options: { store: failing, resolveProject, lockout, onStoreError: 'deny' },
    });
    const events = recordEvents(app.limiter);
    const res = await send();
    expect(res.status).toBe(503);
    expect(events.take().map((e) => e.name)).toContain('store_error');
  });

  it('while the store fails, onStoreError local locks out on the local store', async () => {
    const failing: Store = {
      prefix: 'f',
      clustered: false,
      run: () => Promise.reject(new StoreUnavailableError('down', { timedOut: false })),
    };
    app = await framework.build({
      options: {
        store: failing,
        resolveProject,
        quotas: [quota],
        lockout,
        onStoreError: 'local',
        localShare: 1,
      },
    });
    const reasons: string[] = [];
    for (let i = 0; i < 5; i++) {
      reasons.push((await send()).headers['x-sentry-rate-limit-reason'] ?? 'admitted');
    }
    expect(reasons).toEqual(['admitted', 'admitted', 'project_quota', 'lockout', 'lockout']);
  });

  it('sluice:decision says lockout, from memory, and cardinality with what is left', async () => {
    const clock = new ManualClock(1_767_225_600_000);
    app = await framework.build({
      options: {
        store: clockedStore(clock),
        resolveProject,
        quotas: [quota],
        lockout,
        cardinality: {
          scope: () => 'org',
          values: () => ['v'],
          quota: new Quota({ windowSeconds: 60, granularitySeconds: 10, limit: 3 }),
        },
        rejectionCacheMaxSeconds: 0,
      },
    });
    const messages: DecisionMessage[] = [];
    const listen = (message: unknown) => messages.push(message as DecisionMessage);
    subscribe(DECISION_CHANNEL, listen);
    try {
      for (let i = 0; i < 5; i++) await send();
    } finally {
      unsubscribe(DECISION_CHANNEL, listen);
    }
    const summary = messages.map((m) =>
      [m.engine, m.outcome, m.rule, m.fromCache, m.remaining].join(' '),
    );
    expect(summary.filter((m) => m.startsWith('cardinality'))).toEqual(
      Array(4).fill('cardinality admitted cardinality_60s false 2'),
    );
    // The fifth request: refused from memory, nothing else decided.
    expect(summary.at(-1)).toBe('lockout refused lockout true ');
    expect(summary.filter((m) => m.startsWith('lockout'))).toHaveLength(1);
  });

  it('in shadow, a lockout is only reported: the request meets the other rules', async () => {
    const clock = new ManualClock(1_767_225_600_000);
    app = await framework.build({
      options: {
        store: clockedStore(clock),
        resolveProject,
        rejectionCacheMaxSeconds: 0,
        quotas: [quota],
        lockout: { ...lockout, shadow: true },
      },
    });
    const events = recordEvents(app.limiter);
    for (let i = 0; i < 4; i++) await send();
    events.take();
    clock.advance(10_000);
    expect((await send()).status).toBe(200);
    expect(
      events
        .take()
        .map((e) =>
          e.name === 'event_dropped'
            ? `dropped ${(e.event as { reasonCode: string }).reasonCode} shadow=${(e.event as { shadow: boolean }).shadow}`
            : e.name,
        ),
    ).toEqual(['event_received', 'dropped lockout shadow=true', 'event_accepted']);
  });
});

describe('lockout on a real Redis: no command while locked out', () => {
  let monitor: Redis | undefined;
  let client: Redis | undefined;
  beforeAll(() => {
    client = new Redis(inject('redisUrl'), { maxRetriesPerRequest: 1 });
  });
  afterAll(() => {
    client?.disconnect();
    monitor?.disconnect();
  });

  it.each(FRAMEWORKS)(
    '$name: 100 locked-out requests, 0 Redis commands on their keys',
    async (framework) => {
      const prefix = `lk${process.pid}x${Math.random().toString(36).slice(2, 8)}`;
      const store = new RedisStore(client!, { prefix, timeoutMs: 2000 });
      const app = await framework.build({
        options: {
          store,
          resolveProject,
          quotas: [{ ...quota, limit: 0 }],
          lockout: { ...lockout, blockSeconds: 120 },
        },
      });
      try {
        // limit 0 refuses without a store call: only the lockout touches Redis.
        monitor ??= await new Redis(inject('redisUrl')).monitor();
        const seen: string[] = [];
        /** Marker keys awaited, each resolved when MONITOR shows its GET. */
        const markers = new Map<string, () => void>();
        const onMonitor = (_time: string, args: string[]) => {
          const marker = args[0]?.toLowerCase() === 'get' ? markers.get(args[1]!) : undefined;
          if (marker !== undefined) marker();
          else if (args.some((arg) => arg.includes(prefix))) seen.push(args[0]!.toLowerCase());
        };
        monitor.on('monitor', onMonitor);
        // A marker GET through the store's own connection orders the log: MONITOR lists
        // commands as Redis runs them, so everything the store sent before it is in.
        const mark = async (name: string) => {
          const key = `${prefix}:mark:${name}`;
          const arrived = new Promise<void>((resolve) => markers.set(key, resolve));
          await client!.get(key);
          await arrived;
          return seen.splice(0);
        };
        // MONITOR streams from here on.
        await mark('ready');
        const send = () => app.request({ path: '/api/1/store/', headers: auth });
        expect((await send()).headers['x-sentry-rate-limit-reason']).toBe('project_quota');
        expect((await send()).headers['x-sentry-rate-limit-reason']).toBe('lockout');
        // Checks and recordings ran scripts (MONITOR also lists the commands inside them).
        expect(await mark('before')).toContain('hmget');
        for (let i = 0; i < 100; i++) {
          expect((await send()).headers['x-sentry-rate-limit-reason']).toBe('lockout');
        }
        expect(await mark('after'), 'Redis commands while locked out').toEqual([]);
        monitor.off('monitor', onMonitor);
      } finally {
        await app.close();
      }
    },
  );
});
