// The refusal is the app's to shape (issue 13 §1): `limitedStatus`, `limitedBody` and
// `onLimited(req, refusal)`, with sluice's headers kept whatever the body, and a handler that
// throws or answers nonsense still giving a well-formed 429, never a 500 or an unhandled
// rejection. On every framework.
import { InvalidConfiguration, type Refusal } from '@sluice/core';
import { recordEvents } from '@sluice/test-support/events';
import type { AppSpec, TestApp, TestResponse } from '@sluice/test-support/frameworks';
import { FRAMEWORKS } from '@sluice/test-support/frameworks';
import {
  frozenStore,
  hourly,
  PROJECTS,
  resolveProject,
  sentryAuth,
} from '@sluice/test-support/projects';
import { afterEach, describe, expect, it } from 'vitest';

const auth = sentryAuth(PROJECTS.one.key);
const SENTRY_BODY = {
  error: 'Creation of this event was denied due to rate limiting',
  error_name: 'rate_limit',
};

/** sluice's headers on a refusal of the hourly quota, whatever shaped the body. */
function expectSluiceHeaders(res: TestResponse): void {
  expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  expect(res.headers['x-sentry-rate-limit-reason']).toBe('project_quota');
  expect(res.headers['x-sentry-rate-limits']).toMatch(/^\d+::project:project_quota$/);
  expect(res.headers['access-control-expose-headers']).toContain('Retry-After');
}

describe.each(FRAMEWORKS)('the refusal, shaped: $name', (framework) => {
  let app: TestApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });
  /** An app whose project 1 has used its one request of the hour: the next is refused. */
  async function refusedBy(options: Partial<AppSpec['options']>, spec: Partial<AppSpec> = {}) {
    app = await framework.build({
      options: { store: frozenStore(), resolveProject, quotas: [hourly(1)], ...options },
      ...spec,
    });
    const events = recordEvents(app.limiter);
    expect((await app.request({ path: '/api/1/store/', headers: auth })).status).toBe(200);
    return { app, events };
  }

  it('by default: Sentry’s 429 and JSON body', async () => {
    const { app } = await refusedBy({});
    const res = await app.request({ path: '/api/1/store/', headers: auth });
    expect(res.status).toBe(429);
    expect(JSON.parse(res.body)).toEqual(SENTRY_BODY);
    expectSluiceHeaders(res);
  });

  it('limitedStatus and limitedBody: a JSON object, or a string as text', async () => {
    const { app } = await refusedBy({ limitedStatus: 503, limitedBody: { message: 'busy' } });
    const json = await app.request({ path: '/api/1/store/', headers: auth });
    expect(json.status).toBe(503);
    expect(json.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(json.body)).toEqual({ message: 'busy' });
    expectSluiceHeaders(json);
    await app.close();
    const { app: text } = await refusedBy({ limitedBody: 'Too many requests, slow down.' });
    const res = await text.request({ path: '/api/1/store/', headers: auth });
    expect(res.status).toBe(429);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body).toBe('Too many requests, slow down.');
    expectSluiceHeaders(res);
  });

  it('onLimited sees the refusal and shapes status, body and extra headers; sluice’s headers win', async () => {
    const seen: Array<{ path: string; refusal: Refusal }> = [];
    const { app } = await refusedBy({
      onLimited: async (req, refusal) => {
        seen.push({ path: req.path, refusal });
        return {
          status: 429,
          body: { retryIn: refusal.retryAfter, reason: refusal.reasonCode },
          headers: { 'Cache-Control': 'no-store', 'Retry-After': '99999', 'X-App': 'notes' },
        };
      },
    });
    const res = await app.request({ path: '/api/1/store/', headers: auth });
    expect(res.status).toBe(429);
    expectSluiceHeaders(res);
    expect(res.headers['retry-after']).not.toBe('99999');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['x-app']).toBe('notes');
    expect(JSON.parse(res.body)).toEqual({
      retryIn: Number(res.headers['retry-after']),
      reason: 'project_quota',
    });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.path.toLowerCase()).toBe('/api/1/store/');
    expect(seen[0]!.refusal.project).toEqual({ id: 1, organizationId: 10 });
    expect(seen[0]!.refusal.limits).toEqual([
      expect.objectContaining({ scope: 'project', reasonCode: 'project_quota' }),
    ]);
  });

  it('onLimited returning undefined keeps limitedStatus and limitedBody', async () => {
    const { app } = await refusedBy({ limitedStatus: 420, onLimited: () => undefined });
    const res = await app.request({ path: '/api/1/store/', headers: auth });
    expect(res.status).toBe(420);
    expect(JSON.parse(res.body)).toEqual(SENTRY_BODY);
  });

  it.each([
    [
      'throws',
      () => {
        throw new Error('handler bug');
      },
      'onLimited()',
    ],
    ['rejects', () => Promise.reject(new Error('async handler bug')), 'onLimited()'],
    ['returns status 200', () => ({ status: 200 }), 'onLimited().status'],
    [
      'returns a header with CR LF',
      () => ({ headers: { 'X-A': 'b\r\nSet-Cookie: x=1' } }),
      'onLimited().headers["X-A"]',
    ],
    [
      'returns a header name with a space',
      () => ({ headers: { 'X A': 'b' } }),
      'onLimited().headers["X A"]',
    ],
    ['returns a body JSON cannot encode', () => ({ body: { n: 1n } }), 'onLimited().body'],
    ['returns a number', () => 7 as never, 'onLimited()'],
  ])(
    'onLimited that %s: the configured 429, well formed, and config_error',
    async (_what, onLimited, option) => {
      const { app, events } = await refusedBy({ onLimited: onLimited as never });
      const res = await app.request({ path: '/api/1/store/', headers: auth });
      expect(res.status).toBe(429);
      expect(JSON.parse(res.body)).toEqual(SENTRY_BODY);
      expectSluiceHeaders(res);
      expect(res.headers['set-cookie']).toBeUndefined();
      const errors = events.take().filter((e) => e.name === 'config_error');
      expect(errors).toHaveLength(1);
      expect((errors[0]!.event as { option: string }).option).toBe(option);
    },
  );

  it('a route’s own onLimited shapes the route’s refusals only', async () => {
    const { app } = await refusedBy(
      {},
      {
        route: {
          quotas: [{ ...hourly(0), id: 'r', reasonCode: 'route_quota' }],
          onLimited: () => ({ body: 'route says no' }),
        },
      },
    );
    const routed = await app.request({
      path: '/api/2/routed/',
      headers: sentryAuth(PROJECTS.two.key),
    });
    expect(routed.status).toBe(429);
    expect(routed.body).toBe('route says no');
    const plain = await app.request({ path: '/api/1/store/', headers: auth });
    expect(JSON.parse(plain.body)).toEqual(SENTRY_BODY);
  });
});

describe('refusal options at construction', () => {
  it.each([
    [{ limitedStatus: 200 }, 'limitedStatus'],
    [{ limitedStatus: 429.5 }, 'limitedStatus'],
    [{ limitedStatus: '429' }, 'limitedStatus'],
    [{ limitedBody: 42 }, 'limitedBody'],
    [
      {
        limitedBody: {
          n: {
            toJSON: () => {
              throw new Error('no JSON');
            },
          },
        },
      },
      'limitedBody',
    ],
    [{ onLimited: 'nope' }, 'onLimited'],
    [{ skipFailedRequests: 'yes' }, 'skipFailedRequests'],
    [{ skipSuccessfulRequests: 1 }, 'skipSuccessfulRequests'],
    [{ requestWasSuccessful: true }, 'requestWasSuccessful'],
  ])('%o throws InvalidConfiguration naming %s, on every framework', async (bad, option) => {
    for (const framework of FRAMEWORKS) {
      const error = await framework.build({ options: { resolveProject, ...(bad as object) } }).then(
        async (app) => {
          await app.close();
          return undefined;
        },
        (thrown: unknown) => thrown,
      );
      expect(error, framework.name).toBeInstanceOf(InvalidConfiguration);
      expect((error as InvalidConfiguration).option, framework.name).toBe(option);
    }
  });
});
