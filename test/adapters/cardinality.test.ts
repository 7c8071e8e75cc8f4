// The HTTP option `cardinality` (issue 16 §2), on every framework: a request that brings a new
// value past the limit is refused (429, well-formed headers, event), a value already seen
// passes, and whatever values a client sends never reach a header nor crash the app.
import { MemoryStore, Quota, type SluiceRequest } from '@sluice/core';
import { recordEvents } from '@sluice/test-support/events';
import { FRAMEWORKS, type TestApp } from '@sluice/test-support/frameworks';
import { valueRequest } from '@sluice/test-support/fuzz';
import {
  countingStore,
  frozenStore,
  PROJECTS,
  resolveProject,
  sentryAuth,
} from '@sluice/test-support/projects';
import { strictRateLimits } from '@sluice/test-support/sentry-rate-limits';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';

const auth = sentryAuth(PROJECTS.one.key);
const NOW_MS = 1_767_225_600_000;
/** Two distinct releases per organization per hour. */
const quota = new Quota({ windowSeconds: 3600, granularitySeconds: 60, limit: 2 });
/** The request's releases: every `release` query parameter. */
const releases = (req: SluiceRequest) => {
  const value = req.query.release;
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
};
const cardinality = {
  scope: (_req: SluiceRequest, project: { organizationId: string | number }) =>
    `org:${project.organizationId}`,
  values: releases,
  quota,
};
const path = (...values: string[]) =>
  `/api/1/store/?${values.map((v) => `release=${encodeURIComponent(v)}`).join('&')}`;

describe.each(FRAMEWORKS)('cardinality: $name', (framework) => {
  let app: TestApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });
  const send = (...values: string[]) => app!.request({ path: path(...values), headers: auth });

  it('a new value past the limit is refused, values already seen pass', async () => {
    app = await framework.build({
      options: { store: new MemoryStore({ clock: () => NOW_MS }), resolveProject, cardinality },
    });
    const events = recordEvents(app.limiter);
    expect((await send('1.0')).status).toBe(200);
    expect((await send('1.1', '1.0')).status).toBe(200);
    const refused = await send('1.2');
    expect(refused.status).toBe(429);
    expect(refused.headers['x-sentry-rate-limit-reason']).toBe('cardinality_limit');
    // A value leaves the window when its granule does: within the hour.
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(3500);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(3600);
    expect(strictRateLimits(refused.headers['x-sentry-rate-limits']!)).toEqual([
      {
        retryAfter: Number(refused.headers['retry-after']),
        categories: [],
        scope: 'project',
        reasonCode: 'cardinality_limit',
      },
    ]);
    // A request with a new value among seen ones is refused whole; seen ones alone pass.
    expect((await send('1.0', '1.3')).status).toBe(429);
    expect((await send('1.1', '1.0')).status).toBe(200);
    expect((await send()).status).toBe(200);
    const dropped = events.take().flatMap((e) => (e.name === 'event_dropped' ? [e.event] : []));
    expect(dropped.map((e) => e.reasonCode)).toEqual(['cardinality_limit', 'cardinality_limit']);
  });

  it('values of any text are hashed: never in a header, never a crash; too many is a 400', async () => {
    app = await framework.build({
      options: { store: new MemoryStore({ clock: () => NOW_MS }), resolveProject, cardinality },
    });
    const odd = ['{tag}', '1:error:organization:forged, 60', 'é\u0000\u{1F600}', 'x'.repeat(5000)];
    expect((await send(odd[0]!, odd[1]!)).status).toBe(200);
    for (const value of odd.slice(2)) {
      const res = await send(value);
      expect(res.status).toBe(429);
      for (const header of Object.values(res.headers)) {
        expect(header).not.toContain('forged');
        expect(header).not.toContain('tag');
      }
      expect(strictRateLimits(res.headers['x-sentry-rate-limits']!)).toHaveLength(1);
    }
    const many = Array.from({ length: 1001 }, (_, i) => `v${i}`);
    const tooMany = await app.request({ path: path(...many), headers: auth });
    expect(tooMany.status).toBe(400);
  });

  it('in shadow, a refusal is only reported; a lockout counts cardinality refusals', async () => {
    app = await framework.build({
      options: {
        store: new MemoryStore({ clock: () => NOW_MS }),
        resolveProject,
        cardinality: { ...cardinality, shadow: true, reasonCode: 'new_release' },
      },
    });
    const events = recordEvents(app.limiter);
    for (const v of ['a', 'b', 'c']) expect((await send(v)).status).toBe(200);
    expect(
      events
        .take()
        .flatMap((e) => (e.name === 'event_dropped' ? [[e.event.reasonCode, e.event.shadow]] : [])),
    ).toEqual([['new_release', true]]);
    await app.close();
    app = await framework.build({
      options: {
        store: new MemoryStore({ clock: () => NOW_MS }),
        resolveProject,
        cardinality: { ...cardinality, quota: new Quota({ ...quota, limit: 0 }) },
        lockout: { after: 2, withinSeconds: 60, blockSeconds: 600 },
      },
    });
    expect((await send('a')).headers['x-sentry-rate-limit-reason']).toBe('cardinality_limit');
    expect((await send('a')).headers['x-sentry-rate-limit-reason']).toBe('lockout');
    // Locked out: even a request without values is refused.
    expect((await send()).headers['retry-after']).toBe('600');
  });

  it('a bad option throws InvalidConfiguration naming it', async () => {
    for (const [options, option] of [
      [{ ...cardinality, scope: 'org' }, 'cardinality.scope'],
      [
        { ...cardinality, quota: { windowSeconds: 10, granularitySeconds: 3, limit: 1 } },
        'cardinality.quota',
      ],
      [{ ...cardinality, reasonCode: 'a b' }, 'cardinality.reasonCode'],
      [{ ...cardinality, limit: 3 }, 'cardinality.limit'],
      [
        { ...cardinality, quota: new Quota({ ...quota, prefixOverride: 'x' }) },
        'cardinality.quota.prefixOverride',
      ],
    ] as const) {
      await expect(
        framework.build({ options: { resolveProject, cardinality: options as never } }),
      ).rejects.toMatchObject({ option: expect.stringContaining(option) });
    }
  });
});

/** Fuzzed request values, per framework. */
const FUZZ_RUNS = 200;

describe.each(FRAMEWORKS)(
  'cardinality and lockout on fuzzed request values: $name',
  (framework) => {
    it(`${FUZZ_RUNS} cases: well-formed headers, a 4xx never a 5xx, no store call for a 400`, async () => {
      const store = countingStore(frozenStore());
      const all = (value: unknown) =>
        value === undefined ? [] : Array.isArray(value) ? value.map(String) : [String(value)];
      const app = await framework.build({
        options: {
          store,
          resolveProject,
          cardinality: {
            // Scope, values and lockout key all from the client: a header and the query.
            scope: (req) => String(req.headers['x-prefix'] ?? 's'),
            values: (req) => [...all(req.query.cat), ...all(req.query.n)],
            quota: new Quota({ windowSeconds: 60, granularitySeconds: 10, limit: 2 }),
          },
          lockout: {
            after: 2,
            withinSeconds: 60,
            blockSeconds: 30,
            key: (req) => all(req.query.k)[0] ?? 'k',
          },
        },
      });
      const statuses = new Set<number>();
      try {
        await fc.assert(
          fc.asyncProperty(valueRequest, async (request) => {
            const before = store.calls;
            const res = await app.request(request);
            statuses.add(res.status);
            const where = `${res.status} ${JSON.stringify(res.headers)}`;
            expect([200, 400, 429], where).toContain(res.status);
            for (const value of Object.values(res.headers))
              expect(value, where).toMatch(/^[\x20-\x7e]*$/);
            if (res.status === 400) expect(store.calls, where).toBe(before);
            if (res.status === 429) {
              const entries = strictRateLimits(res.headers['x-sentry-rate-limits']!);
              expect(entries.length, where).toBeGreaterThan(0);
              expect(res.headers['retry-after'], where).toMatch(/^\d+$/);
            }
          }),
          { numRuns: FUZZ_RUNS, seed: 16 },
        );
        expect([...statuses].sort()).toEqual([200, 400, 429]);
      } finally {
        await app.close();
      }
    });
  },
);
