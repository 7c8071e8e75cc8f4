// The adapter contract (DESIGN 4), run against Express 5 and 4, Koa 3 and 2, and Fastify 5
// through one tiny harness each. Memory stores with a frozen clock: windows never roll mid-test,
// so every Retry-After is known exactly.
import { ConcurrencyLimiter, InvalidConfiguration, type SluiceOptions } from '@sluice/core';
import { type RecordedEvent, recordEvents } from '@sluice/test-support/events';
import type { AppSpec, HandlerReply, TestApp, TestResponse } from '@sluice/test-support/frameworks';
import { FRAMEWORKS } from '@sluice/test-support/frameworks';
import {
  countingStore,
  frozenStore,
  hourly,
  NOW_MS,
  PROJECTS,
  resolveProject,
  secondsToNextWindow,
  sentryAuth,
} from '@sluice/test-support/projects';
import {
  retryAfterMs,
  sdkRateLimits,
  strictRateLimits,
} from '@sluice/test-support/sentry-rate-limits';
import { afterEach, describe, expect, it } from 'vitest';

const RATE_LIMITED = 'Creation of this event was denied due to rate limiting';
const SENTRY_HEADERS = [
  'Retry-After',
  'X-Sentry-Rate-Limits',
  'X-Sentry-Rate-Limit-Reason',
  'X-Sentry-Error',
];
const { one, two, other } = PROJECTS;
const auth = sentryAuth(one.key);
/** Retry-After of an hourly quota of projects one and two (organization 10) at NOW_MS. */
const HOURLY_RETRY = secondsToNextWindow(10, 3600);

const exposed = (res: TestResponse) =>
  (res.headers['access-control-expose-headers'] ?? '').split(',').map((name) => name.trim());
const reply = (res: TestResponse) => JSON.parse(res.body) as HandlerReply;
const names = (events: RecordedEvent[]) => events.map((e) => e.name);

describe.each(FRAMEWORKS)('adapter contract: $name', (framework) => {
  let app: TestApp | undefined;
  const build = async (spec: AppSpec) => {
    app = await framework.build(spec);
    return { app, events: recordEvents(app.limiter) };
  };
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('accepts until the quota, then answers 429 with every header and Sentry’s body', async () => {
    const { app } = await build({
      options: {
        store: frozenStore(),
        resolveProject,
        quotas: [hourly(3, ['error', 'default'])],
        category: 'error',
      },
    });
    for (let i = 0; i < 3; i++) {
      const res = await app.request({ method: 'POST', path: '/api/1/store/', headers: auth });
      expect(res.status).toBe(200);
      expect(reply(res).sluice).toEqual({
        project: '1',
        shadow: false,
        accepted: ['error'],
        dropped: [],
      });
      expect(res.headers['retry-after']).toBeUndefined();
      expect(exposed(res)).toEqual(expect.arrayContaining(SENTRY_HEADERS));
    }
    const res = await app.request({ method: 'POST', path: '/api/1/store/', headers: auth });
    expect(res.status).toBe(429);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(res.body)).toEqual({ error: RATE_LIMITED, error_name: 'rate_limit' });
    expect(res.headers['retry-after']).toBe(String(HOURLY_RETRY));
    expect(res.headers['x-sentry-rate-limit-reason']).toBe('project_quota');
    expect(res.headers['x-sentry-error']).toBe(RATE_LIMITED);
    expect(exposed(res)).toEqual(expect.arrayContaining(SENTRY_HEADERS));
    expect(strictRateLimits(res.headers['x-sentry-rate-limits']!)).toEqual([
      {
        retryAfter: HOURLY_RETRY,
        categories: ['error', 'default'],
        scope: 'project',
        reasonCode: 'project_quota',
      },
    ]);
    // What a Sentry SDK concludes: these two categories are off for exactly Retry-After seconds.
    const now = Date.now();
    expect(sdkRateLimits(res, now)).toEqual({
      error: now + HOURLY_RETRY * 1000,
      default: now + HOURLY_RETRY * 1000,
    });
    expect(retryAfterMs(res.headers['retry-after']!, now)).toBe(HOURLY_RETRY * 1000);
    // Another project of the same organization has a counter of its own.
    const elsewhere = await app.request({
      method: 'POST',
      path: '/api/2/store/',
      headers: sentryAuth(two.key),
    });
    expect(elsewhere.status).toBe(200);
  });

  it('lists every exceeded limit, and Retry-After is the longest, in whole seconds', async () => {
    const org = {
      id: 'o',
      scope: 'organization' as const,
      limit: 1,
      windowSeconds: 7,
      reasonCode: 'org_quota',
    };
    const { app } = await build({
      options: { store: frozenStore(), resolveProject, quotas: [hourly(1), org] },
    });
    expect((await app.request({ path: '/api/1/store/', headers: auth })).status).toBe(200);
    const res = await app.request({ path: '/api/1/store/', headers: auth });
    expect(res.status).toBe(429);
    const orgRetry = secondsToNextWindow(10, 7);
    expect(strictRateLimits(res.headers['x-sentry-rate-limits']!)).toEqual(
      expect.arrayContaining([
        { retryAfter: HOURLY_RETRY, categories: [], scope: 'project', reasonCode: 'project_quota' },
        {
          retryAfter: Math.ceil(orgRetry),
          categories: [],
          scope: 'organization',
          reasonCode: 'org_quota',
        },
      ]),
    );
    expect(res.headers['retry-after']).toBe(String(HOURLY_RETRY));
    expect(res.headers['x-sentry-rate-limit-reason']).toBe('project_quota');
    expect(Object.keys(sdkRateLimits(res, Date.now()))).toEqual(['all']);
  });

  it('drops only the limited items of a request and lists them on the 200', async () => {
    const noTransactions = {
      ...hourly(0, ['transaction']),
      id: 't',
      reasonCode: 'no_transactions',
    };
    const { app, events } = await build({
      options: {
        store: frozenStore(),
        resolveProject,
        quotas: [noTransactions, hourly(10, ['error'])],
        items: () => [
          { category: 'error', quantity: 1 },
          { category: 'transaction', quantity: 1 },
        ],
      },
    });
    const res = await app.request({ path: '/api/1/store/', headers: auth });
    expect(res.status).toBe(200);
    expect(reply(res).sluice).toMatchObject({ accepted: ['error'], dropped: ['transaction'] });
    expect(strictRateLimits(res.headers['x-sentry-rate-limits']!)).toEqual([
      {
        retryAfter: 60,
        categories: ['transaction'],
        scope: 'project',
        reasonCode: 'no_transactions',
      },
    ]);
    expect(sdkRateLimits(res, 0)).toEqual({ transaction: 60_000 });
    expect(names(events.take())).toEqual(['event_received', 'event_dropped', 'event_accepted']);
  });

  describe('authentication answers, which never touch the store', () => {
    const longClient = `Sentry sentry_key=${one.key}, sentry_client=${'x'.repeat(5000)}`;
    const cases: Array<[string, number, { path?: string; headers?: Record<string, string> }]> = [
      ['a malformed X-Sentry-Auth', 400, { headers: { 'x-sentry-auth': 'Sentry garbage' } }],
      ['a malformed Authorization', 400, { headers: { authorization: 'Sentry sentry_key' } }],
      ['two sources at once', 400, { path: `/api/1/store/?sentry_key=${one.key}`, headers: auth }],
      ['an oversized auth header', 400, { headers: { 'x-sentry-auth': longClient } }],
      ['a sentry_key that is not a key', 400, { headers: sentryAuth('not a key!') }],
      ['no authentication', 401, {}],
      ['a Bearer token instead', 401, { headers: { authorization: 'Bearer abc' } }],
      ['an unknown key', 401, { headers: sentryAuth('f'.repeat(32)) }],
      ['the key of another project', 403, { headers: sentryAuth(other.key) }],
      ['a project id that is not a number', 400, { path: '/api/abc/store/', headers: auth }],
    ];
    it.each(cases)('%s: %i', async (_name, status, { path = '/api/1/store/', headers = {} }) => {
      const store = countingStore(frozenStore());
      const { app, events } = await build({
        options: { store, resolveProject, quotas: [hourly(5)] },
      });
      const res = await app.request({ method: 'POST', path, headers });
      expect(res.status).toBe(status);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      const body = JSON.parse(res.body) as { error: string };
      expect(body).toEqual({ error: expect.any(String) });
      expect(res.headers['x-sentry-error']).toBe(body.error);
      expect(exposed(res)).toEqual(expect.arrayContaining(SENTRY_HEADERS));
      expect(store.calls).toBe(0);
      expect(events.take()).toEqual([]);
    });

    it('accepts each single source: X-Sentry-Auth, Authorization, and the SDK’s query string', async () => {
      const { app } = await build({
        options: { store: frozenStore(), resolveProject, quotas: [hourly(5)] },
      });
      const sources = [
        { path: '/api/1/store/', headers: auth },
        {
          path: '/api/1/store/',
          headers: { authorization: `Sentry sentry_key=${one.key}, sentry_version=7` },
        },
        {
          path: `/api/1/envelope/?sentry_version=7&sentry_key=${one.key}`.replace(
            'envelope',
            'store',
          ),
        },
        { path: `/api/1/store/?sentry_key=${one.key}` },
      ];
      for (const source of sources)
        expect((await app.request({ method: 'POST', ...source })).status).toBe(200);
    });
  });

  describe('events', () => {
    it('emits each event once per request, with the ip, project and reason', async () => {
      const { app, events } = await build({
        options: {
          store: frozenStore(),
          resolveProject,
          quotas: [hourly(1, ['error'])],
          category: 'error',
        },
      });
      const ok = await app.request({ path: '/api/1/store/', headers: auth });
      const { ip } = reply(ok);
      const project = { id: 1, organizationId: 10 };
      expect(events.take()).toEqual([
        { name: 'event_received', event: { ip, project } },
        { name: 'event_accepted', event: { ip, project } },
      ]);
      expect((await app.request({ path: '/api/1/store/', headers: auth })).status).toBe(429);
      expect(events.take()).toEqual([
        { name: 'event_received', event: { ip, project } },
        {
          name: 'event_dropped',
          event: {
            ip,
            project,
            reasonCode: 'project_quota',
            retryAfter: HOURLY_RETRY,
            category: 'error',
            shadow: false,
          },
        },
      ]);
    });

    it.each([true, false])(
      'takes the ip from the framework under trust proxy = %s, and nothing else',
      async (trustProxy) => {
        const { app, events } = await build({
          trustProxy,
          options: { store: frozenStore(), resolveProject },
        });
        const res = await app.request({
          path: '/api/1/store/',
          headers: {
            ...auth,
            'x-forwarded-for': '203.0.113.7',
            'x-real-ip': '198.51.100.1',
            forwarded: 'for=192.0.2.60',
          },
        });
        const { ip } = reply(res);
        if (trustProxy) expect(ip).toBe('203.0.113.7');
        else expect(['203.0.113.7', '198.51.100.1', '192.0.2.60']).not.toContain(ip);
        expect(events.take().map((e) => (e.event as { ip: string }).ip)).toEqual([ip, ip]);
      },
    );

    it('passes a body parsed before the limiter as the events’ data', async () => {
      const { app, events } = await build({
        parseBody: true,
        options: { store: frozenStore(), resolveProject, quotas: [hourly(1)] },
      });
      const json = { message: 'hello', level: 'error' };
      expect(
        (await app.request({ method: 'POST', path: '/api/1/store/', headers: auth, json })).status,
      ).toBe(200);
      expect(
        (await app.request({ method: 'POST', path: '/api/1/store/', headers: auth, json })).status,
      ).toBe(429);
      const recorded = events.take();
      expect(names(recorded)).toEqual([
        'event_received',
        'event_accepted',
        'event_received',
        'event_dropped',
      ]);
      expect(recorded[1]!.event).toMatchObject({ data: json });
      expect(recorded[3]!.event).toMatchObject({ data: json, reasonCode: 'project_quota' });
    });
  });

  it('shadow mode never refuses, but reports the drop and then the acceptance', async () => {
    const store = countingStore(frozenStore());
    const { app, events } = await build({
      options: { store, resolveProject, quotas: [hourly(1)], mode: 'shadow' },
    });
    for (let i = 0; i < 4; i++) {
      const res = await app.request({ path: '/api/1/store/', headers: auth });
      expect(res.status).toBe(200);
      expect(res.headers['x-sentry-rate-limits']).toBeUndefined();
      expect(reply(res).sluice).toMatchObject({ shadow: true, dropped: [] });
      const recorded = events.take();
      if (i === 0) expect(names(recorded)).toEqual(['event_received', 'event_accepted']);
      else {
        expect(names(recorded)).toEqual(['event_received', 'event_dropped', 'event_accepted']);
        expect(recorded[1]!.event).toMatchObject({
          shadow: true,
          reasonCode: 'project_quota',
          retryAfter: HOURLY_RETRY,
        });
      }
    }
    expect(store.calls).toBe(4); // no rejection cache in shadow mode
  });

  it('the enforce predicate rolls enforcement out per project', async () => {
    const { app, events } = await build({
      options: {
        store: frozenStore(),
        resolveProject,
        quotas: [hourly(1)],
        enforce: (project) => project.id === 1,
      },
    });
    const two_ = sentryAuth(two.key);
    expect((await app.request({ path: '/api/1/store/', headers: auth })).status).toBe(200);
    expect((await app.request({ path: '/api/1/store/', headers: auth })).status).toBe(429);
    expect((await app.request({ path: '/api/2/store/', headers: two_ })).status).toBe(200);
    events.take();
    const shadowed = await app.request({ path: '/api/2/store/', headers: two_ });
    expect(shadowed.status).toBe(200);
    expect(reply(shadowed).sluice).toMatchObject({ project: '2', shadow: true });
    expect(events.take().map((e) => [e.name, (e.event as { shadow?: boolean }).shadow])).toEqual([
      ['event_received', undefined],
      ['event_dropped', true],
      ['event_accepted', undefined],
    ]);
  });

  it('sends the IETF RateLimit headers when asked, on every answer', async () => {
    const { app } = await build({
      options: {
        store: frozenStore(),
        resolveProject,
        quotas: [hourly(3)],
        rateLimitHeaders: true,
      },
    });
    const policy = /^"([^"]+)";q=(\d+);w=(\d+)$/;
    const limit = /^"([^"]+)";r=(\d+);t=(\d+)$/;
    for (const [status, remaining] of [
      [200, 2],
      [200, 1],
      [200, 0],
      [429, 0],
      [429, 0],
    ]) {
      const res = await app.request({ path: '/api/1/store/', headers: auth });
      expect(res.status).toBe(status);
      expect(policy.exec(res.headers['ratelimit-policy'] ?? '')?.slice(2)).toEqual(['3', '3600']);
      const [name, r, t] = limit.exec(res.headers.ratelimit ?? '')?.slice(1) ?? [];
      expect(name).toBe(policy.exec(res.headers['ratelimit-policy']!)?.[1]);
      expect(Number(r)).toBe(remaining);
      expect(Number(t)).toBe(HOURLY_RETRY);
      expect(exposed(res)).toEqual(
        expect.arrayContaining([...SENTRY_HEADERS, 'RateLimit', 'RateLimit-Policy']),
      );
    }
    const off = await framework.build({
      options: { store: frozenStore(), resolveProject, quotas: [hourly(3)] },
    });
    const res = await off.request({ path: '/api/1/store/', headers: auth });
    await off.close();
    expect(res.headers.ratelimit).toBeUndefined();
    expect(res.headers['ratelimit-policy']).toBeUndefined();
    expect(exposed(res)).not.toContain('RateLimit');
  });

  describe('per-route quotas', () => {
    const routeQuota = {
      id: 'r',
      scope: 'project' as const,
      limit: 2,
      windowSeconds: 3600,
      reasonCode: 'route_quota',
    };

    it('a route stage after the limiter decides only its own quotas and identifies nothing twice', async () => {
      const { app, events } = await build({
        options: { store: frozenStore(), resolveProject, quotas: [hourly(4)] },
        route: { quotas: [routeQuota] },
      });
      for (let i = 0; i < 2; i++) {
        expect((await app.request({ path: '/api/1/routed/', headers: auth })).status).toBe(200);
        expect(names(events.take())).toEqual(['event_received', 'event_accepted']);
      }
      const refused = await app.request({ path: '/api/1/routed/', headers: auth });
      expect(refused.status).toBe(429);
      expect(refused.headers['x-sentry-rate-limit-reason']).toBe('route_quota');
      expect(names(events.take())).toEqual(['event_received', 'event_accepted', 'event_dropped']);
      // The limiter counted each of the three once (not again in the route stage): one left.
      expect((await app.request({ path: '/api/1/store/', headers: auth })).status).toBe(200);
      const full = await app.request({ path: '/api/1/store/', headers: auth });
      expect(full.status).toBe(429);
      expect(full.headers['x-sentry-rate-limit-reason']).toBe('project_quota');
    });

    it('a route stage used alone identifies the request itself', async () => {
      const { app, events } = await build({
        options: { store: frozenStore(), resolveProject, quotas: [hourly(100)] },
        route: { quotas: [routeQuota] },
      });
      const anonymous = await app.request({ path: '/solo/api/1/routed/' });
      expect(anonymous.status).toBe(401);
      expect(events.take()).toEqual([]);
      expect(
        (await app.request({ path: '/solo/api/1/routed/', headers: sentryAuth(other.key) })).status,
      ).toBe(403);
      for (let i = 0; i < 2; i++) {
        const res = await app.request({ path: '/solo/api/1/routed/', headers: auth });
        expect(res.status).toBe(200);
        expect(reply(res).sluice).toMatchObject({ project: '1' });
        expect(names(events.take())).toEqual(['event_received', 'event_accepted']);
      }
      const refused = await app.request({ path: '/solo/api/1/routed/', headers: auth });
      expect(refused.status).toBe(429);
      expect(refused.headers['x-sentry-rate-limit-reason']).toBe('route_quota');
      expect(names(events.take())).toEqual(['event_received', 'event_dropped']);
    });
  });

  it('the quota decorator runs the route stage before the method, keeping `this`', async () => {
    const decoratedQuota = {
      id: 'd',
      scope: 'project' as const,
      limit: 1,
      windowSeconds: 3600,
      reasonCode: 'decorated',
    };
    const ran: string[] = [];
    const { app, events } = await build({
      options: { store: frozenStore(), resolveProject, quotas: [hourly(100)] },
      decorated: { quotas: [decoratedQuota] },
      ran: (via) => ran.push(via),
    });
    const first = await app.request({ path: '/api/1/decorated/', headers: auth });
    expect(first.status).toBe(200);
    expect(reply(first)).toMatchObject({ via: 'controller', sluice: { project: '1' } });
    expect(names(events.take())).toEqual(['event_received', 'event_accepted']);
    const refused = await app.request({ path: '/api/1/decorated/', headers: auth });
    expect(refused.status).toBe(429);
    expect(refused.headers['x-sentry-rate-limit-reason']).toBe('decorated');
    expect(JSON.parse(refused.body)).toEqual({ error: RATE_LIMITED, error_name: 'rate_limit' });
    expect(names(events.take())).toEqual(['event_received', 'event_accepted', 'event_dropped']);
    // The refused request never reached the method (Fastify's once did, after the 429).
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(ran).toEqual(['controller']);
    // Alone, the decorated method identifies the request itself.
    expect((await app.request({ path: '/solo/api/2/decorated/' })).status).toBe(401);
    const alone = await app.request({
      path: '/solo/api/2/decorated/',
      headers: sentryAuth(two.key),
    });
    expect(alone.status).toBe(200);
    expect(reply(alone)).toMatchObject({ via: 'controller', sluice: { project: '2' } });
    expect(names(events.take())).toEqual(['event_received', 'event_accepted']);
  });

  it('remembers a full quota: a flood of refused requests makes no store call', async () => {
    const store = countingStore(frozenStore());
    const { app, events } = await build({
      // A bound longer than the flood takes on a loaded machine (the default is 1 s).
      options: { store, resolveProject, quotas: [hourly(2)], rejectionCacheMaxSeconds: 600 },
    });
    for (let i = 0; i < 2; i++)
      expect((await app.request({ path: '/api/1/store/', headers: auth })).status).toBe(200);
    const first = await app.request({ path: '/api/1/store/', headers: auth });
    expect(first.status).toBe(429);
    const calls = store.calls;
    events.take();
    const [firstLimit] = strictRateLimits(first.headers['x-sentry-rate-limits']!);
    const startedAt = Date.now();
    for (let i = 0; i < 100; i++) {
      const res = await app.request({ path: '/api/1/store/', headers: auth });
      expect(res.status).toBe(429);
      // The remembered refusal counts down in real time from the store's answer.
      const [limit] = strictRateLimits(res.headers['x-sentry-rate-limits']!);
      const elapsed = Math.ceil((Date.now() - startedAt) / 1000);
      expect(limit).toMatchObject({ ...firstLimit, retryAfter: expect.any(Number) });
      expect(limit!.retryAfter).toBeLessThanOrEqual(firstLimit!.retryAfter);
      expect(limit!.retryAfter).toBeGreaterThanOrEqual(firstLimit!.retryAfter - elapsed - 1);
      expect(Number(res.headers['retry-after'])).toBe(limit!.retryAfter);
    }
    expect(store.calls).toBe(calls);
    const recorded = events.take();
    expect(recorded.filter((e) => e.name === 'event_received')).toHaveLength(100);
    expect(recorded.filter((e) => e.name === 'event_dropped')).toHaveLength(100);
    // Another project is not refused by the cache.
    expect(
      (await app.request({ path: '/api/2/store/', headers: sentryAuth(two.key) })).status,
    ).toBe(200);
  });

  it('skip lets a request through untouched', async () => {
    const { app, events } = await build({
      options: {
        store: frozenStore(),
        resolveProject,
        skip: (req) => req.headers['x-internal'] === 'yes',
      },
    });
    const res = await app.request({ path: '/api/1/store/', headers: { 'x-internal': 'yes' } });
    expect(res.status).toBe(200);
    expect(reply(res).sluice).toBeNull();
    expect(events.take()).toEqual([]);
  });

  it('holds a concurrency slot until the response ends, also after a handler error', async () => {
    const store = frozenStore();
    const { app } = await build({ options: { store, resolveProject, concurrency: { limit: 1 } } });
    const slots = new ConcurrencyLimiter(store, { limit: 1 });
    expect((await app.request({ path: '/api/1/store/', headers: auth })).status).toBe(200);
    expect(await slots.inFlight('1')).toBe(0);
    expect((await app.request({ path: '/api/1/fail/', headers: auth })).status).toBe(500);
    expect(await slots.inFlight('1')).toBe(0);
    const held = await slots.acquire('1');
    const full = await app.request({ path: '/api/1/store/', headers: auth });
    expect(full.status).toBe(429);
    expect(full.headers['x-sentry-rate-limit-reason']).toBe('concurrency_limit');
    expect(full.headers['retry-after']).toBe('1');
    await held!.release();
    expect((await app.request({ path: '/api/1/store/', headers: auth })).status).toBe(200);
  });

  describe('invalid options throw InvalidConfiguration when the app is built', () => {
    const base: SluiceOptions = { store: frozenStore(), resolveProject };
    const bad: Array<[string, AppSpec, string]> = [
      ['limiter', { options: { ...base, quotas: 5 as never } }, 'quotas'],
      ['limiter without identification', { options: { store: base.store! } }, 'resolveProject'],
      ['route stage', { options: base, route: { mode: 'loud' as never } }, 'mode'],
      [
        'decorator',
        { options: base, decorated: { onStoreError: 'maybe' as never } },
        'onStoreError',
      ],
    ];
    it.each(bad)('%s', async (_name, spec, option) => {
      const error = await framework.build(spec).then(
        (built) => {
          app = built;
          return undefined;
        },
        (thrown: unknown) => thrown,
      );
      expect(error).toBeInstanceOf(InvalidConfiguration);
      expect((error as InvalidConfiguration).option).toBe(option);
    });
  });

  it('uses the frozen clock, so the expected Retry-After is exact', () => {
    expect(HOURLY_RETRY).toBe(3600 - ((NOW_MS / 1000 - 10) % 3600));
  });
});
