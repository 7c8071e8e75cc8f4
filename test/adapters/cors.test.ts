// Browsers (issue 11, section 1): the app's CORS middleware (`cors`, `@koa/cors`,
// `@fastify/cors`) is mounted before sluice. A preflight passes sluice untouched; every answer,
// sluice's own 429, 400, 401, 403 and 503 included, keeps what the middleware set, and
// `Access-Control-Expose-Headers` holds the app's names and sluice's, each once.
import { MemoryStore, type Store, StoreUnavailableError } from '@sluice/core';
import { recordEvents } from '@sluice/test-support/events';
import {
  APP_EXPOSED_HEADER,
  FRAMEWORKS,
  type TestApp,
  type TestResponse,
} from '@sluice/test-support/frameworks';
import {
  countingStore,
  frozenStore,
  hourly,
  PROJECTS,
  resolveProject,
  sentryAuth,
} from '@sluice/test-support/projects';
import { afterEach, describe, expect, it } from 'vitest';

const ORIGIN = 'http://page.example.test:8080';
const SLUICE_EXPOSED = [
  'Retry-After',
  'X-Sentry-Rate-Limits',
  'X-Sentry-Rate-Limit-Reason',
  'X-Sentry-Error',
];
const { one, other } = PROJECTS;
const auth = { ...sentryAuth(one.key), origin: ORIGIN };

const exposed = (res: TestResponse) =>
  (res.headers['access-control-expose-headers'] ?? '').split(',').map((name) => name.trim());

/** What the browser needs to read the answer: the origin allowed, every name exposed once. */
function expectReadable(res: TestResponse): void {
  expect(res.headers['access-control-allow-origin']).toBe(ORIGIN);
  const names = exposed(res);
  expect(names).toEqual(expect.arrayContaining([APP_EXPOSED_HEADER, ...SLUICE_EXPOSED]));
  expect(new Set(names.map((n) => n.toLowerCase())).size).toBe(names.length);
}

/** A store that always fails, as a dead Redis does within its deadline. */
const failingStore: Store = {
  prefix: 'sluice',
  clustered: false,
  run: () => Promise.reject(new StoreUnavailableError('down', { timedOut: false })),
};

describe.each(FRAMEWORKS)('CORS before sluice: $name', (framework) => {
  let app: TestApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('a preflight is answered by the CORS middleware; sluice neither counts nor reports it', async () => {
    const store = countingStore(frozenStore());
    app = await framework.build({
      cors: true,
      options: { store, resolveProject, quotas: [hourly(0)] },
    });
    const events = recordEvents(app.limiter);
    const res = await app.request({
      method: 'OPTIONS',
      path: `/api/1/store/?sentry_key=${one.key}`,
      headers: {
        origin: ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'x-sentry-auth, content-type',
      },
    });
    expect(res.status).toBeLessThan(300);
    expect(res.headers['access-control-allow-origin']).toBe(ORIGIN);
    expect(res.headers['x-sentry-error']).toBeUndefined();
    expect(store.calls).toBe(0);
    expect(events.take()).toEqual([]);
  });

  it('an OPTIONS request that reaches sluice passes it untouched', async () => {
    const store = countingStore(frozenStore());
    app = await framework.build({ options: { store, resolveProject, quotas: [hourly(0)] } });
    const events = recordEvents(app.limiter);
    for (const path of ['/api/1/store/', '/api/1/routed/', '/api/1/decorated/']) {
      const res = await app.request({ method: 'OPTIONS', path });
      expect(res.status, path).toBe(200);
      expect(JSON.parse(res.body).sluice, path).toBeNull();
      expect(res.headers['access-control-expose-headers']).toBeUndefined();
    }
    expect(store.calls).toBe(0);
    expect(events.take()).toEqual([]);
  });

  it('every answer keeps the middleware’s headers: 200, 429, 400, 401, 403', async () => {
    app = await framework.build({
      cors: true,
      options: { store: frozenStore(), resolveProject, quotas: [hourly(1)] },
    });
    const ok = await app.request({ method: 'POST', path: '/api/1/store/', headers: auth });
    expect(ok.status).toBe(200);
    expectReadable(ok);
    const answers: Array<[number, Record<string, string>, string]> = [
      [429, auth, '/api/1/store/'],
      [400, { ...auth, 'x-sentry-auth': 'Sentry garbage' }, '/api/1/store/'],
      [401, { origin: ORIGIN }, '/api/1/store/'],
      [403, { ...sentryAuth(other.key), origin: ORIGIN }, '/api/1/store/'],
    ];
    for (const [status, headers, path] of answers) {
      const res = await app.request({ method: 'POST', path, headers });
      expect(res.status).toBe(status);
      expectReadable(res);
    }
  });

  it('the 503 of a failing store under deny keeps them too', async () => {
    app = await framework.build({
      cors: true,
      options: { store: failingStore, resolveProject, quotas: [hourly(5)], onStoreError: 'deny' },
    });
    const res = await app.request({ method: 'POST', path: '/api/1/store/', headers: auth });
    expect(res.status).toBe(503);
    expectReadable(res);
  });

  it('with the IETF headers on, their names are exposed as well', async () => {
    app = await framework.build({
      cors: true,
      options: {
        store: new MemoryStore(),
        resolveProject,
        quotas: [hourly(5)],
        rateLimitHeaders: true,
      },
    });
    const res = await app.request({ method: 'POST', path: '/api/1/store/', headers: auth });
    expectReadable(res);
    expect(exposed(res)).toEqual(expect.arrayContaining(['RateLimit', 'RateLimit-Policy']));
  });
});
