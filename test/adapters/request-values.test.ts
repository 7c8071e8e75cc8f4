// One request must never take a process down (issue 11, section 2): values a request carries
// into a header are encoded or refused with a 400, values from configuration are checked when
// the app is built, and per-request configuration that is wrong answers 500 with a
// `config_error` event, on every framework.
import { InvalidConfiguration, Quota, type SluiceOptions } from '@sluice/core';
import { type RecordedEvent, recordEvents } from '@sluice/test-support/events';
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
import { afterEach, describe, expect, it } from 'vitest';

const { one, other } = PROJECTS;
const auth = sentryAuth(one.key);

/** A header value Node writes as it is: visible ASCII and spaces, nothing else. */
const WELL_FORMED = /^[\x20-\x7e]*$/;
/** One `X-Sentry-Rate-Limits` entry whose fields cannot hold a separator. */
const ENTRY = /^\d+:[^:,; ]*(?:;[^:,; ]+)*:(?:organization|project|key):[^:,; ]+$/;

/** Every header well formed, every `X-Sentry-Rate-Limits` entry one of sluice's own. */
function expectWellFormed(res: TestResponse, entries?: number): void {
  for (const [name, value] of Object.entries(res.headers)) {
    expect(value, name).toMatch(WELL_FORMED);
  }
  const limits = res.headers['x-sentry-rate-limits'];
  if (limits === undefined) return;
  const list = limits.split(', ');
  for (const entry of list) expect(entry).toMatch(ENTRY);
  if (entries !== undefined) expect(list).toHaveLength(entries);
  for (const value of [res.headers['retry-after'], ...list.map((e) => e.split(':')[0])]) {
    if (value !== undefined) expect(Number.isSafeInteger(Number(value)), value).toBe(true);
  }
}

/** A window of one request per hour, keyed by the `x-prefix` header when there is one. */
const oneWindow = (reasonCode?: string) => ({
  prefix: (req: { headers: Record<string, unknown> }) => String(req.headers['x-prefix'] ?? 'w'),
  quotas: [new Quota({ windowSeconds: 3600, granularitySeconds: 3600, limit: 1 })],
  ...(reasonCode === undefined ? {} : { reasonCode }),
});

const HOSTILE_CATEGORIES = [
  '%0D%0A',
  '%E4%B8%AD',
  'a%2C%2026%3Aerror%3Aorganization%3Aforged',
  'x%3B26%3Aerror',
  '%ED%A0%80', // a lone surrogate's bytes: not UTF-8, decoded to U+FFFD
  '(%22)',
  '%25',
];

describe.each(FRAMEWORKS)('request-derived values: $name', (framework) => {
  let app: TestApp | undefined;
  const build = async (spec: AppSpec) => {
    app = await framework.build(spec);
    return { app, events: recordEvents(app.limiter) };
  };
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('a category from the query is encoded into X-Sentry-Rate-Limits, never a new entry', async () => {
    const { app } = await build({
      options: {
        store: frozenStore(),
        resolveProject,
        category: (req) => req.query.cat as string,
        windows: oneWindow(),
      },
    });
    for (const cat of HOSTILE_CATEGORIES) {
      const path = `/api/1/store/?cat=${cat}`;
      const first = await app.request({ path, headers: { ...auth, 'x-prefix': cat } });
      expect(first.status, cat).toBe(200);
      const res = await app.request({ path, headers: { ...auth, 'x-prefix': cat } });
      expect(res.status, cat).toBe(429);
      expectWellFormed(res, 1);
      const [entry] = res.headers['x-sentry-rate-limits']!.split(', ');
      const category = entry!.split(':')[1]!;
      expect(decodeURIComponent(category)).toBe(
        new URLSearchParams(`cat=${cat}`).get('cat')!.replace(/[\ud800-\udfff]/g, '\ufffd'),
      );
      expect(res.headers['x-sentry-rate-limit-reason']).toBe('sliding_window');
    }
  });

  it('an empty, over-long or repeated category, or a bad quantity, is a 400 that counts nothing', async () => {
    const store = countingStore(frozenStore());
    const { app, events } = await build({
      options: {
        store,
        resolveProject,
        quotas: [hourly(5)],
        category: (req) => req.query.cat as string,
        quantity: (req) => (req.query.n === undefined ? 1 : Number(req.query.n)),
      },
    });
    for (const query of [
      'cat=',
      `cat=${'c'.repeat(129)}`,
      'cat=a&cat=b',
      'n=abc',
      'n=-1',
      'n=1.5',
      'n=1e400',
    ]) {
      const res = await app.request({ path: `/api/1/store/?${query}`, headers: auth });
      expect(res.status, query).toBe(400);
      expect(JSON.parse(res.body)).toEqual({ error: res.headers['x-sentry-error'] });
      expectWellFormed(res);
    }
    expect(store.calls).toBe(0);
    expect(events.take()).toEqual([]);
    const ok = await app.request({ path: `/api/1/store/?cat=${'c'.repeat(128)}`, headers: auth });
    expect(ok.status).toBe(200);
  });

  it('a window prefix or concurrency key from the request cannot open a hash tag', async () => {
    const { app } = await build({
      options: {
        store: frozenStore(),
        resolveProject,
        windows: oneWindow(),
        concurrency: { limit: 5, key: (req) => String(req.headers['x-prefix'] ?? '') },
      },
    });
    for (const prefix of ['{x}', '}{', '%7B', '', 'a%']) {
      const headers = { ...auth, 'x-prefix': prefix };
      expect((await app.request({ path: '/api/1/store/', headers })).status, prefix).toBe(200);
      expect((await app.request({ path: '/api/1/store/', headers })).status, prefix).toBe(429);
    }
    const long = await app.request({
      path: '/api/1/store/',
      headers: { ...auth, 'x-prefix': 'p'.repeat(1025) },
    });
    expect(long.status).toBe(400);
  });

  it('item types that name Object.prototype properties get no prototype’s category', async () => {
    const byType: Record<string, string> = Object.create(null);
    byType.event = 'error';
    const store = countingStore(frozenStore());
    const { app } = await build({
      options: {
        store,
        resolveProject,
        quotas: [{ ...hourly(0, ['default']), reasonCode: 'no_default' }],
        items: (req) => [{ category: byType[req.query.type as string] ?? 'default', quantity: 1 }],
      },
    });
    for (const type of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      const res = await app.request({ path: `/api/1/store/?type=${type}`, headers: auth });
      expect(res.status, type).toBe(429);
      expect(res.headers['x-sentry-rate-limits']).toBe('60:default:project:no_default');
    }
    // An app whose own lookup leaks a prototype's function gets a 400, not a bypass.
    const leaky = await framework.build({
      options: {
        store: frozenStore(),
        resolveProject,
        quotas: [{ ...hourly(0, ['default']), reasonCode: 'no_default' }],
        items: (req) => [
          {
            category: ({ event: 'error' } as Record<string, string>)[req.query.type as string]!,
            quantity: 1,
          },
        ],
      },
    });
    try {
      const res = await leaky.request({ path: '/api/1/store/?type=constructor', headers: auth });
      expect(res.status).toBe(400);
    } finally {
      await leaky.close();
    }
  });

  it('Sentry paths match in any letter case: another project’s key is a 403', async () => {
    const store = countingStore(frozenStore());
    const { app } = await build({ options: { store, resolveProject, quotas: [hourly(5)] } });
    for (const path of ['/API/1/STORE/', '/Api/1/Store/', '/api/1/STORE/']) {
      expect((await app.request({ path, headers: sentryAuth(other.key) })).status, path).toBe(403);
      expect((await app.request({ path, headers: auth })).status, path).toBe(200);
    }
    expect((await app.request({ path: '/API/x/store/', headers: auth })).status).toBe(400);
  });

  it('an invalid quota from getQuotas is a 500 with a config_error naming it, never a crash', async () => {
    const store = countingStore(frozenStore());
    const { app, events } = await build({
      options: {
        store,
        resolveProject,
        quotas: (_project, req) => [
          req.query.bad === undefined ? hourly(5) : { ...hourly(5), reasonCode: 'bad\r\nx' },
        ],
        concurrency: { limit: 1 },
      },
    });
    for (let i = 0; i < 3; i++) {
      const res = await app.request({ path: '/api/1/store/?bad=1', headers: auth });
      expect(res.status).toBe(500);
      expect(JSON.parse(res.body)).toEqual({ error: 'rate limiting is misconfigured' });
      expectWellFormed(res);
      const recorded = events.take();
      const error = recorded.find((e) => e.name === 'config_error') as
        | Extract<RecordedEvent, { name: 'config_error' }>
        | undefined;
      expect(error?.event.option).toBe('getQuotas()[0].reasonCode');
      expect(error?.event.error).toBeInstanceOf(InvalidConfiguration);
      expect(recorded.map((e) => e.name)).not.toContain('event_accepted');
    }
    // The concurrency slot was given back each time; a good request still gets in.
    expect((await app.request({ path: '/api/1/store/', headers: auth })).status).toBe(200);
  });

  describe('configuration is checked when the app is built', () => {
    const base: SluiceOptions = { store: frozenStore(), resolveProject };
    const bad: Array<[string, SluiceOptions, string]> = [
      [
        'a reason code with a newline',
        { ...base, quotas: [{ ...hourly(1), reasonCode: 'a\r\nb' }] },
        'quotas[0].reasonCode',
      ],
      [
        'a non-Latin-1 reason code',
        { ...base, quotas: [{ ...hourly(1), reasonCode: '配额' }] },
        'quotas[0].reasonCode',
      ],
      [
        'a reason code that forges an entry',
        { ...base, quotas: [{ ...hourly(1), reasonCode: 'q, 1::organization:forged' }] },
        'quotas[0].reasonCode',
      ],
      [
        'a quota category with a separator',
        { ...base, quotas: [hourly(1, ['error;forged'])] },
        'quotas[0].categories[0]',
      ],
      ['a window reason code', { ...base, windows: oneWindow('slid\ning') }, 'windows.reasonCode'],
      [
        'a window of 0 seconds',
        { ...base, windows: { ...oneWindow(), quotas: [{ windowSeconds: 0 } as never] } },
        'windows.quotas[0].granularitySeconds',
      ],
      [
        'a number as a window',
        { ...base, windows: { ...oneWindow(), quotas: [5 as never] } },
        'windows.quotas[0]',
      ],
      ['a misspelled quotas', { ...base, quota: [hourly(1)] } as SluiceOptions, 'quota'],
      [
        'a misspelled onStoreError',
        { ...base, onStoreErrors: 'deny' } as SluiceOptions,
        'onStoreErrors',
      ],
      [
        'a misspelled window option',
        { ...base, windows: { ...oneWindow(), reason: 'x' } as never },
        'windows.reason',
      ],
      [
        'a misspelled concurrency option',
        { ...base, concurrency: { limit: 1, lease: 5 } as never },
        'concurrency.lease',
      ],
      ['an empty category', { ...base, category: '' }, 'category'],
    ];
    it.each(bad)('%s', async (_name, options, option) => {
      const error = await framework.build({ options }).then(
        (built) => {
          app = built;
          return undefined;
        },
        (thrown: unknown) => thrown,
      );
      expect(error).toBeInstanceOf(InvalidConfiguration);
      expect((error as InvalidConfiguration).option).toBe(option);
    });

    it('a route stage’s unknown option too', async () => {
      const error = await framework
        .build({ options: base, route: { quota: [] } as SluiceOptions })
        .then(
          (built) => {
            app = built;
            return undefined;
          },
          (thrown: unknown) => thrown,
        );
      expect(error).toBeInstanceOf(InvalidConfiguration);
      expect((error as InvalidConfiguration).option).toBe('quota');
    });
  });
});
