// onStoreError: 'local' against a real Redis that is killed and restarted, and one that hangs
// (SIGSTOP): no request fails, each limiter says store_fallback start and stop once, three
// limiters (each on its own RedisStore, as three processes would be) admit during the outage at
// most limit x 3 x localShare beyond what Redis admitted before it, windows and concurrency
// follow the same rule, and decisions count on Redis again once it is back.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  FALLBACK_CHANNEL,
  type FallbackMessage,
  type Project,
  Quota,
  type QuotaConfig,
  Quotas,
  type SluiceOptions,
} from '@sluice/core';
import { type Decision, HttpLimiter } from '@sluice/core/adapter';
import { RedisStore } from '@sluice/core/redis';
import { type RecordedEvent, recordEvents } from '@sluice/test-support/events';
import { FRAMEWORKS, type TestApp } from '@sluice/test-support/frameworks';
import { PROJECTS, sentryAuth } from '@sluice/test-support/projects';
import { freePort, type RedisServer, startRedisServer } from '@sluice/test-support/redis';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';

const WINDOW_SECONDS = 3600;
// An organization whose hourly window is half over now, so no window rolls during the test.
const organizationId = Math.floor((Date.now() / 1000 - WINDOW_SECONDS / 2) % WINDOW_SECONDS);
const project: Project = { id: PROJECTS.one.id, organizationId };
const resolveProject = () => project;
const auth = sentryAuth(PROJECTS.one.key);
const storePath = `/api/${project.id}/store/`;

/** A client as docs/reliability.md configures it (fail at once while disconnected), connected. */
const failFastClient = async (url: string) => {
  const client = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => 50,
  });
  client.on('error', () => undefined);
  await once(client, 'ready');
  return client;
};

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const count = <K extends RecordedEvent['name']>(events: RecordedEvent[], name: K) =>
  events.filter((e): e is Extract<RecordedEvent, { name: K }> => e.name === name);

/** Resolves once `done()` holds, checking every 10 ms; rejects after `withinMs`. */
async function until(done: () => boolean, withinMs: number, what: string): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${withinMs} ms`);
    await sleep(10);
  }
}

describe('three app limiters on one Redis that is killed and restarted', () => {
  const LIMIT = 30;
  const SHARE = 1 / 3;
  const PROCESSES = 3;

  it('admits at most limit x processes x localShare more during the outage, fails no request, and counts on Redis again after', async () => {
    let server: RedisServer | undefined = await startRedisServer();
    const { port, url } = server;
    cleanups.push(() => server?.stop());
    const prefix = `fb${Date.now()}`;
    const quotas: QuotaConfig[] = [
      {
        id: 'p',
        scope: 'project',
        limit: LIMIT,
        windowSeconds: WINDOW_SECONDS,
        reasonCode: 'project_quota',
      },
    ];
    const messages: FallbackMessage[] = [];
    const onMessage = (message: unknown) => messages.push(message as FallbackMessage);
    subscribe(FALLBACK_CHANNEL, onMessage);
    cleanups.push(() => void unsubscribe(FALLBACK_CHANNEL, onMessage));
    const apps: { app: TestApp; events: { take(): RecordedEvent[] } }[] = [];
    for (let i = 0; i < PROCESSES; i++) {
      const client = await failFastClient(url);
      cleanups.push(() => client.disconnect());
      // Three frameworks, one per "process": each adapter carries the fallback's decisions.
      const framework = FRAMEWORKS[[0, 2, 4][i]!]!;
      const options: SluiceOptions = {
        store: new RedisStore(client, { prefix, timeoutMs: 200 }),
        resolveProject,
        quotas,
        onStoreError: 'local',
        localShare: SHARE,
      };
      const app = await framework.build({ options });
      cleanups.push(() => app.close());
      apps.push({ app, events: recordEvents(app.limiter) });
    }
    const send = async (app: TestApp) =>
      (await app.request({ path: storePath, headers: auth })).status;
    const usageOnRedis = async () => {
      const client = await failFastClient(url);
      try {
        const store = new RedisStore(client, { prefix });
        const [usage] = await new Quotas({ store, getQuotas: () => quotas }).getUsage(project);
        return usage!.used;
      } finally {
        client.disconnect();
      }
    };

    // Before the outage: 4 requests per app, decided and counted on Redis.
    const BEFORE = 4;
    for (const { app } of apps) for (let i = 0; i < BEFORE; i++) expect(await send(app)).toBe(200);
    expect(await usageOnRedis()).toBe(PROCESSES * BEFORE);
    for (const { events } of apps) expect(count(events.take(), 'store_fallback')).toEqual([]);

    await server.stop();
    server = undefined;
    // During the outage: 20 requests per app, more than its local share of 10.
    const statuses: number[] = [];
    const localLimit = Math.floor(LIMIT * SHARE);
    for (const { app, events } of apps) {
      for (let i = 0; i < 20; i++) statuses.push(await send(app));
      const seen = events.take();
      expect(count(seen, 'store_fallback').map((e) => e.event.state)).toEqual(['start']);
      // The request that saw the failure reports it; the others never touched the store.
      expect(count(seen, 'store_error').map((e) => e.event.policy)).toEqual(['local']);
      const accepted = count(seen, 'event_accepted');
      expect(accepted).toHaveLength(localLimit);
      expect(accepted.every((e) => e.event.local === true)).toBe(true);
      const dropped = count(seen, 'event_dropped');
      expect(dropped.map((e) => [e.event.reasonCode, e.event.local])).toEqual(
        new Array(20 - localLimit).fill(['project_quota', true]),
      );
    }
    expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([]);
    const admittedDuringOutage = statuses.filter((s) => s === 200).length;
    expect(admittedDuringOutage).toBeLessThanOrEqual(LIMIT * PROCESSES * SHARE + 1e-9);
    expect(admittedDuringOutage).toBe(PROCESSES * localLimit);

    // Redis is back, empty (no persistence): each limiter's probe finds it and says stop once.
    server = await startRedisServer([], port);
    const stopped = () => messages.filter((m) => m.state === 'stop').length === PROCESSES;
    await until(stopped, 2000, 'store_fallback stop on every limiter');
    for (const { app, events } of apps) {
      expect(await send(app)).toBe(200);
      const seen = events.take();
      expect(count(seen, 'store_fallback').map((e) => e.event.state)).toEqual(['stop']);
      expect(count(seen, 'store_error')).toEqual([]);
      expect(count(seen, 'event_accepted').map((e) => e.event.local)).toEqual([undefined]);
    }
    // Counted on Redis again: the three requests since its return, and nothing written back.
    expect(await usageOnRedis()).toBe(PROCESSES);
    expect(messages.map((m) => m.state).sort()).toEqual([
      'start',
      'start',
      'start',
      'stop',
      'stop',
      'stop',
    ]);
    const stop = messages.find((m) => m.state === 'stop') as Extract<
      FallbackMessage,
      { state: 'stop' }
    >;
    expect(stop.localDecisions).toBe(20);
    expect(stop.durationMs).toBeGreaterThan(0);
  });
});

describe('sliding windows and concurrency on a Redis that hangs (SIGSTOP)', () => {
  const DEADLINE_MS = 1000;

  it('decide on the local store at their scaled limits; a slot goes back where it was taken', async () => {
    const server = await startRedisServer();
    cleanups.push(() => server.stop());
    cleanups.push(() => void server.process.kill('SIGCONT'));
    const client = await failFastClient(server.url);
    cleanups.push(() => client.disconnect());
    const limiter = new HttpLimiter({
      store: new RedisStore(client, { prefix: `fbw${Date.now()}`, timeoutMs: DEADLINE_MS }),
      identify: () => ({ project }),
      // Hour-long windows of minute granules: a granule that ends mid-test drops nothing.
      windows: {
        prefix: () => 'client',
        quotas: [new Quota({ windowSeconds: 3600, granularitySeconds: 60, limit: 10 })],
      },
      concurrency: { limit: 4, leaseSeconds: 30 },
      onStoreError: 'local',
      localShare: 0.5,
    });
    const events = recordEvents(limiter);
    const decide = async () => {
      const started = performance.now();
      const decision = await limiter.decide(
        { method: 'POST', url: '/ingest', headers: {}, ip: '127.0.0.1' },
        {},
      );
      return { decision, ms: performance.now() - started };
    };
    const reasonOf = (decision: Decision) =>
      decision.action === 'respond'
        ? decision.answer.headers['X-Sentry-Rate-Limit-Reason']
        : undefined;
    const release = (decision: Decision) =>
      decision.action === 'continue' ? decision.outcome?.release() : undefined;

    const onRedis = (await decide()).decision;
    expect(onRedis).toMatchObject({ action: 'continue' });
    expect(onRedis.local).toBeUndefined();

    server.process.kill('SIGSTOP');
    // The request that meets the hang waits out the deadline once, then is decided locally.
    const first = await decide();
    expect(first.ms).toBeLessThan(DEADLINE_MS + 100);
    expect(first.decision).toMatchObject({ action: 'continue', local: true });
    expect(first.decision.action === 'continue' && first.decision.outcome?.local).toBe(true);
    const later: { decision: Decision; ms: number }[] = [];
    // Concurrency: 2 local slots (4 x 0.5), both held now.
    later.push(await decide());
    expect(later[0]!.decision).toMatchObject({ action: 'continue', local: true });
    later.push(await decide());
    expect(reasonOf(later[1]!.decision)).toBe('concurrency_limit');
    expect(later[1]!.decision.local).toBe(true);
    // The slot taken on Redis goes back to Redis (which fails fast): no local slot frees.
    await release(onRedis);
    later.push(await decide());
    expect(reasonOf(later[2]!.decision)).toBe('concurrency_limit');
    // A slot taken locally goes back locally.
    await release(first.decision);
    await release(later[0]!.decision);
    // Windows: 5 local units (10 x 0.5); the two admitted requests above counted 2.
    for (let i = 0; i < 3; i++) {
      const next = await decide();
      expect(next.decision).toMatchObject({ action: 'continue', local: true });
      await release(next.decision);
      later.push(next);
    }
    const full = await decide();
    later.push(full);
    expect(reasonOf(full.decision)).toBe('sliding_window');
    // None of these waited for the hung store.
    expect(Math.max(...later.map((l) => l.ms))).toBeLessThan(DEADLINE_MS / 2);

    server.process.kill('SIGCONT');
    const seen: RecordedEvent[] = [];
    const stopped = () => {
      seen.push(...events.take());
      return count(seen, 'store_fallback').some((e) => e.event.state === 'stop');
    };
    await until(stopped, 2000, 'the return to Redis');
    const back = await decide();
    expect(back.decision).toMatchObject({ action: 'continue' });
    expect(back.decision.local).toBeUndefined();
    seen.push(...events.take());
    expect(count(seen, 'store_fallback').map((e) => e.event.state)).toEqual(['start', 'stop']);
    expect(count(seen, 'store_error').map((e) => e.event.policy)).toEqual(['local']);
    expect(count(seen, 'event_dropped').map((e) => [e.event.reasonCode, e.event.local])).toEqual([
      ['concurrency_limit', true],
      ['concurrency_limit', true],
      ['sliding_window', true],
    ]);
  });
});

describe('a localShare below 1 / limit, on a Redis that never answers', () => {
  it('refuses everything while local (a limit scaled to 0 is reject-all), and null stays unlimited', async () => {
    const client = new Redis(`redis://127.0.0.1:${await freePort()}`, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => 50,
    });
    client.on('error', () => undefined);
    cleanups.push(() => client.disconnect());
    const store = new RedisStore(client, { prefix: 'fbz', timeoutMs: 200 });
    const app = await FRAMEWORKS[2]!.build({
      options: {
        store,
        resolveProject,
        // Per request, asynchronously: the quotas the function gives are scaled too.
        quotas: async () => [
          { id: 'p', scope: 'project', limit: 10, windowSeconds: 60, reasonCode: 'project_quota' },
        ],
        onStoreError: 'local',
        localShare: 0.05,
      },
      route: {
        quotas: [{ id: 'u', scope: 'project', limit: null, windowSeconds: 60 }],
        localShare: 0.05,
      },
    });
    cleanups.push(() => app.close());
    const events = recordEvents(app.limiter);
    for (let i = 0; i < 3; i++) {
      const refused = await app.request({ path: storePath, headers: auth });
      expect(refused.status).toBe(429);
      expect(refused.headers['retry-after']).toBe('60');
      expect(refused.headers['x-sentry-rate-limit-reason']).toBe('project_quota');
    }
    const solo = await app.request({ path: `/solo/api/${project.id}/routed/`, headers: auth });
    expect(solo.status).toBe(200);
    const seen = events.take();
    expect(count(seen, 'store_fallback').map((e) => e.event.state)).toEqual(['start']);
    expect(count(seen, 'event_dropped').every((e) => e.event.local === true)).toBe(true);
    expect(count(seen, 'event_accepted').map((e) => e.event.local)).toEqual([true]);
  });
});

describe('eight concurrent clients while Redis is killed and restarted', () => {
  it('see no failed request; the fallback starts and stops once; decisions count on Redis again', async () => {
    let server = await startRedisServer();
    const { port, url } = server;
    cleanups.push(() => server.stop());
    const client = await failFastClient(url);
    cleanups.push(() => client.disconnect());
    const prefix = `fbc${Date.now()}`;
    const quotas: QuotaConfig[] = [
      {
        id: 'p',
        scope: 'project',
        limit: 1_000_000,
        windowSeconds: WINDOW_SECONDS,
        reasonCode: 'project_quota',
      },
    ];
    const app = await FRAMEWORKS[0]!.build({
      options: {
        store: new RedisStore(client, { prefix, timeoutMs: 200 }),
        resolveProject,
        quotas,
        onStoreError: 'local',
        localShare: 0.5,
      },
    });
    cleanups.push(() => app.close());
    const events = recordEvents(app.limiter);
    const seen: RecordedEvent[] = [];
    const statuses: number[] = [];
    let running = true;
    const client8 = async () => {
      while (running) statuses.push((await app.request({ path: storePath, headers: auth })).status);
    };
    const clients = Array.from({ length: 8 }, client8);
    await sleep(150);
    await server.stop();
    await sleep(400);
    server = await startRedisServer([], port);
    const stopped = () => {
      seen.push(...events.take());
      return count(seen, 'store_fallback').some((e) => e.event.state === 'stop');
    };
    await until(stopped, 2000, 'the return to Redis');
    await sleep(150);
    running = false;
    await Promise.all(clients);
    seen.push(...events.take());

    expect(statuses.filter((status) => status !== 200)).toEqual([]);
    expect(count(seen, 'store_fallback').map((e) => e.event.state)).toEqual(['start', 'stop']);
    // Only requests already on their way to Redis when it died met the failure: one per client at most.
    const errors = count(seen, 'store_error');
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(errors.length).toBeLessThanOrEqual(8);
    expect(count(seen, 'event_accepted').filter((e) => e.event.local).length).toBeGreaterThan(0);
    // Back on Redis (restarted empty): exactly what was admitted after the stop counts there.
    const stop = seen.findIndex((e) => e.name === 'store_fallback' && e.event.state === 'stop');
    // (A local decision under way when the probe answered may still report after the stop.)
    const afterStop = count(seen.slice(stop), 'event_accepted').filter((e) => !e.event.local);
    expect(afterStop.length).toBeGreaterThan(0);
    const store = new RedisStore(client, { prefix });
    const [usage] = await new Quotas({ store, getQuotas: () => quotas }).getUsage(project);
    expect(usage!.used).toBe(afterStop.length);
  });
});

describe('a Redis out of memory under noeviction', () => {
  it('keeps decisions local (its probe writes, as decisions do) until it takes writes again', async () => {
    const server = await startRedisServer([
      '--maxmemory',
      '2mb',
      '--maxmemory-policy',
      'noeviction',
    ]);
    cleanups.push(() => server.stop());
    const client = await failFastClient(server.url);
    cleanups.push(() => client.disconnect());
    // One script fills Redis past maxmemory (the limit is checked when a script starts).
    await client.eval(
      "for i = 1, 60000 do redis.call('SET', 'fill:' .. i, string.rep('x', 100)) end return 1",
      0,
    );
    const limiter = new HttpLimiter({
      store: new RedisStore(client, { prefix: 'fboom', timeoutMs: 200 }),
      identify: () => ({ project }),
      quotas: [
        { id: 'p', scope: 'project', limit: 10, windowSeconds: 60, reasonCode: 'project_quota' },
      ],
      onStoreError: 'local',
      localShare: 1,
    });
    const events = recordEvents(limiter);
    const decide = () =>
      limiter.decide({ method: 'POST', url: '/ingest', headers: {}, ip: '127.0.0.1' }, {});
    expect(await decide()).toMatchObject({ action: 'continue', local: true });
    // Several probes in: Redis answers scripts but refuses their writes, so none ends the fallback.
    await sleep(450);
    expect(await decide()).toMatchObject({ action: 'continue', local: true });
    const seen = events.take();
    expect(count(seen, 'store_fallback').map((e) => e.event.state)).toEqual(['start']);
    expect(count(seen, 'store_error')[0]?.event.error.message).toMatch(/OOM/);

    await client.flushall();
    const stopped = () => {
      seen.push(...events.take());
      return count(seen, 'store_fallback').some((e) => e.event.state === 'stop');
    };
    await until(stopped, 2000, 'the return to Redis');
    const back = await decide();
    expect(back).toMatchObject({ action: 'continue' });
    expect(back.local).toBeUndefined();
  });
});
