// Right answers (issue 11, section 3): the rejection cache refuses only what the store would,
// a limit-0 window answers in finite seconds, the IETF headers list every policy, the
// `windows` option and route-level shadow mode, Sentry's ingest paths in any spelling, and
// the two meanings of a limit of 0.
import { MemoryStore, projectQuota, Quota, type QuotaConfig, Quotas } from '@sluice/core';
import { recordEvents } from '@sluice/test-support/events';
import type { AppSpec, TestApp, TestResponse } from '@sluice/test-support/frameworks';
import { FRAMEWORKS } from '@sluice/test-support/frameworks';
import {
  countingStore,
  frozenStore,
  hourly,
  PROJECTS,
  resolveProject,
  sentryAuth,
} from '@sluice/test-support/projects';
import { strictRateLimits } from '@sluice/test-support/sentry-rate-limits';
import { afterEach, describe, expect, it } from 'vitest';

const { one, other } = PROJECTS;
const auth = sentryAuth(one.key);
const project = { id: 1, organizationId: 10 };

const quota = (id: string, limit: number, windowSeconds: number): QuotaConfig => ({
  id,
  scope: 'project',
  limit,
  windowSeconds,
  reasonCode: `${id}_quota`,
});

/** The items of an IETF Structured Field list: name and parameters. */
function items(value: string | undefined): Array<{ name: string; params: Record<string, number> }> {
  if (value === undefined) return [];
  return value.split(', ').map((item) => {
    const [name, ...params] = item.split(';');
    expect(name).toMatch(/^"[!#$&'*+\-.^_`|~0-9A-Za-z%]+"$/);
    const parsed: Record<string, number> = {};
    for (const param of params) {
      const [key, number] = param.split('=');
      expect(number).toMatch(/^\d+$/);
      parsed[key!] = Number(number);
    }
    return { name: name!.slice(1, -1), params: parsed };
  });
}

describe.each(FRAMEWORKS)('decisions: $name', (framework) => {
  let app: TestApp | undefined;
  const build = async (spec: AppSpec) => {
    app = await framework.build(spec);
    return { app, events: recordEvents(app.limiter) };
  };
  const get = (path: string, headers: Record<string, string> = auth): Promise<TestResponse> =>
    app!.request({ path, headers });
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  describe('the rejection cache', () => {
    it('a full quota of one request never refuses another whose quotas differ', async () => {
      const store = countingStore(frozenStore());
      await build({
        options: {
          store,
          resolveProject,
          // One counter id, two limits: a full `upload` quota is not full at 1000.
          quotas: (_p, req) => [quota('p', req.query.upload === undefined ? 1000 : 1, 3600)],
        },
      });
      expect((await get('/api/1/store/?upload=1')).status).toBe(200);
      expect((await get('/api/1/store/?upload=1')).status).toBe(429);
      const calls = store.calls;
      expect((await get('/api/1/store/?upload=1')).status).toBe(429);
      expect(store.calls).toBe(calls); // remembered
      for (let i = 0; i < 3; i++) expect((await get('/api/1/store/')).status).toBe(200);
    });

    it('remembers only the quota that is full, not one refused for the size of a request', async () => {
      await build({
        options: {
          store: frozenStore(),
          resolveProject,
          quotas: [quota('a', 3, 2), quota('b', 10, 3600)],
          quantity: (req) => Number(req.query.n ?? 1),
        },
      });
      for (let i = 0; i < 3; i++) expect((await get('/api/1/store/')).status).toBe(200);
      const big = await get('/api/1/store/?n=8');
      expect(big.status).toBe(429);
      expect(
        strictRateLimits(big.headers['x-sentry-rate-limits']!).map((l) => l.reasonCode),
      ).toEqual(['a_quota', 'b_quota']);
      for (let i = 0; i < 3; i++) {
        const small = await get('/api/1/store/');
        expect(small.status).toBe(429);
        expect(small.headers['x-sentry-rate-limit-reason']).toBe('a_quota');
        expect(Number(small.headers['retry-after'])).toBeLessThanOrEqual(2);
        expect(strictRateLimits(small.headers['x-sentry-rate-limits']!)).toHaveLength(1);
      }
    });

    it('ages a remembered refusal on the memory store’s own clock, as the store does', async () => {
      let now = Date.UTC(2026, 0, 1);
      // A cache that outlives the test run by wall time: only the store's clock can expire it.
      const store = new MemoryStore({ clock: () => now });
      await build({
        options: {
          store,
          resolveProject,
          quotas: [quota('p', 1, 60)],
          rejectionCacheMaxSeconds: 600,
        },
      });
      expect((await get('/api/1/store/')).status).toBe(200);
      expect((await get('/api/1/store/')).status).toBe(429);
      now += 3_600_000;
      expect((await get('/api/1/store/')).status).toBe(200);
    });

    it('lives at most rejectionCacheMaxSeconds: another process’s refund is heard then', async () => {
      const store = frozenStore();
      await build({
        options: { store, resolveProject, quotas: [hourly(1)], rejectionCacheMaxSeconds: 0.2 },
      });
      expect((await get('/api/1/store/')).status).toBe(200);
      expect((await get('/api/1/store/')).status).toBe(429);
      // Another process (its own Quotas on the same store) gives the unit back.
      await new Quotas({ store, getQuotas: () => [hourly(1)] }).refund(project);
      await new Promise((resolve) => setTimeout(resolve, 250));
      expect((await get('/api/1/store/')).status).toBe(200);
    });

    it('rejectionCacheMaxSeconds: 0 turns it off; a route cannot set its own', async () => {
      const store = countingStore(frozenStore());
      await build({
        options: { store, resolveProject, quotas: [hourly(1)], rejectionCacheMaxSeconds: 0 },
      });
      await get('/api/1/store/');
      await get('/api/1/store/');
      const calls = store.calls;
      expect((await get('/api/1/store/')).status).toBe(429);
      expect(store.calls).toBe(calls + 1);
      await expect(
        framework.build({
          options: { store, resolveProject },
          route: { rejectionCacheMaxSeconds: 5 },
        }),
      ).rejects.toMatchObject({ option: 'rejectionCacheMaxSeconds' });
    });
  });

  it('a limit-0 window answers Retry-After 60, finite in every header', async () => {
    await build({
      options: {
        store: frozenStore(),
        resolveProject,
        category: 'error',
        windows: {
          prefix: () => 'w',
          quotas: [new Quota({ windowSeconds: 60, granularitySeconds: 60, limit: 0 })],
        },
        rateLimitHeaders: true,
      },
    });
    const res = await get('/api/1/store/');
    expect(res.status).toBe(429);
    expect(res.headers['retry-after']).toBe('60');
    expect(res.headers['x-sentry-rate-limits']).toBe('60:error:project:sliding_window');
    expect(items(res.headers.ratelimit)).toEqual([{ name: 'window_60s', params: { r: 0, t: 60 } }]);
  });

  it('the IETF headers list every policy, windows and concurrency included, the binding first', async () => {
    await build({
      options: {
        store: frozenStore(),
        resolveProject,
        quotas: [quota('hour', 100, 3600), quota('minute', 2, 60)],
        windows: {
          prefix: () => 'ietf',
          quotas: [new Quota({ windowSeconds: 10, granularitySeconds: 1, limit: 50 })],
        },
        concurrency: { limit: 4 },
        rateLimitHeaders: true,
      },
    });
    const first = await get('/api/1/store/');
    expect(first.status).toBe(200);
    const policy = items(first.headers['ratelimit-policy']);
    expect(policy.map((p) => p.name)).toEqual(['minute', 'concurrency', 'hour', 'window_10s']);
    expect(policy).toContainEqual({ name: 'hour', params: { q: 100, w: 3600 } });
    expect(policy).toContainEqual({ name: 'minute', params: { q: 2, w: 60 } });
    expect(policy).toContainEqual({ name: 'window_10s', params: { q: 50, w: 10 } });
    expect(policy).toContainEqual({ name: 'concurrency', params: { q: 4 } });
    const limit = items(first.headers.ratelimit);
    expect(limit[0]).toMatchObject({ name: 'minute', params: { r: 1 } });
    expect(limit).toContainEqual(
      expect.objectContaining({ name: 'hour', params: expect.objectContaining({ r: 99 }) }),
    );
    expect(limit).toContainEqual({ name: 'concurrency', params: { r: 3 } });
    expect((await get('/api/1/store/')).status).toBe(200);
    const refused = await get('/api/1/store/');
    expect(refused.status).toBe(429);
    expect(items(refused.headers.ratelimit)[0]).toMatchObject({ name: 'minute', params: { r: 0 } });
    expect(items(refused.headers.ratelimit)[0]!.params.t).toBe(
      Number(refused.headers['retry-after']),
    );
  });

  it('the windows option: refused past the window, quotas given back, prefixes apart', async () => {
    const store = frozenStore();
    const { events } = await build({
      options: {
        store,
        resolveProject,
        quotas: [hourly(10)],
        windows: {
          prefix: (req, p) => `${p.id}:${req.query.user ?? ''}`,
          quotas: [new Quota({ windowSeconds: 60, granularitySeconds: 10, limit: 2 })],
          reasonCode: 'per_user',
        },
      },
    });
    for (let i = 0; i < 2; i++) expect((await get('/api/1/store/?user=a')).status).toBe(200);
    events.take();
    const refused = await get('/api/1/store/?user=a');
    expect(refused.status).toBe(429);
    expect(refused.headers['x-sentry-rate-limit-reason']).toBe('per_user');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(events.take().map((e) => e.name)).toEqual(['event_received', 'event_dropped']);
    expect((await get('/api/1/store/?user=b')).status).toBe(200);
    // The refused request's quota unit was given back: 3 admitted, 3 counted.
    const usage = await new Quotas({ store, getQuotas: () => [hourly(10)] }).getUsage(project);
    expect(usage.map((u) => u.used)).toEqual([3]);
  });

  it('a route in shadow mode reports but never refuses; the limiter still enforces', async () => {
    const routeQuota = quota('route', 1, 3600);
    const { events } = await build({
      options: { store: frozenStore(), resolveProject, quotas: [hourly(3)] },
      route: { quotas: [routeQuota], mode: 'shadow' },
    });
    for (let i = 0; i < 3; i++) {
      const res = await get('/api/1/routed/');
      expect(res.status).toBe(200);
      expect(res.headers['x-sentry-rate-limits']).toBeUndefined();
      const recorded = events.take();
      const dropped = recorded.filter((e) => e.name === 'event_dropped');
      expect(dropped.map((e) => e.event)).toEqual(
        i === 0 ? [] : [expect.objectContaining({ reasonCode: 'route_quota', shadow: true })],
      );
    }
    expect((await get('/api/1/store/')).status).toBe(429);
  });

  it('Sentry ingest paths in any letter case and either slash keep 400, 401 and 403', async () => {
    const store = countingStore(frozenStore());
    await build({ options: { store, resolveProject, quotas: [hourly(50)] } });
    const paths = [
      '/api/1/store/',
      '/api/1/store',
      '/API/1/STORE',
      '/Api/1/Envelope/',
      '/api/1/envelope',
    ];
    for (const path of paths) {
      expect((await get(path, sentryAuth(other.key))).status, path).toBe(403);
      expect((await get(path, {})).status, path).toBe(401);
      expect((await get(path, { 'x-sentry-auth': 'Sentry nonsense' })).status, path).toBe(400);
      expect((await get(path.replace('/1/', '/x/'))).status, path).toBe(400);
      expect(store.calls, path).toBe(0);
    }
    for (const path of paths) expect((await get(path)).status, path).toBe(200);
  });

  it('projectQuota with limit 0 is unlimited (counted); a raw QuotaConfig with limit 0 refuses all', async () => {
    const store = frozenStore();
    const setting = (p: { id: string | number; organizationId: string | number }) => [
      projectQuota(p, { limit: 0, windowSeconds: 60 }),
    ];
    await build({ options: { store, resolveProject, quotas: setting } });
    for (let i = 0; i < 20; i++) expect((await get('/api/1/store/')).status).toBe(200);
    const usage = await new Quotas({ store, getQuotas: setting }).getUsage(project);
    expect(usage).toEqual([
      expect.objectContaining({ used: 20, quota: expect.objectContaining({ limit: null }) }),
    ]);
    await app!.close();

    const counting = countingStore(frozenStore());
    await build({ options: { store: counting, resolveProject, quotas: [quota('off', 0, 60)] } });
    const refused = await get('/api/1/store/');
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('60');
    expect(refused.headers['x-sentry-rate-limits']).toBe('60::project:off_quota');
    expect(counting.calls).toBe(0);
  });

  it('a global quota is one limit for every project, decided from a slice, refused with scope global', async () => {
    const store = countingStore(frozenStore());
    const global: QuotaConfig = {
      id: 'all',
      scope: 'global',
      limit: 2,
      windowSeconds: 3600,
      reasonCode: 'global_quota',
    };
    await build({ options: { store, resolveProject, quotas: [global] } });
    expect((await get('/api/1/store/')).status).toBe(200);
    expect((await get(`/api/${other.id}/store/`, sentryAuth(other.key))).status).toBe(200);
    const refused = await get('/api/1/store/');
    expect(refused.status).toBe(429);
    expect(refused.headers['x-sentry-rate-limit-reason']).toBe('global_quota');
    const [limit, ...more] = strictRateLimits(refused.headers['x-sentry-rate-limits']!);
    expect(more).toEqual([]);
    expect(limit).toMatchObject({ categories: [], scope: 'global', reasonCode: 'global_quota' });
    expect(limit!.retryAfter).toBe(Number(refused.headers['retry-after']));
  });
});
