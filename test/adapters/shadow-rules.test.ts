// Shadow per rule (issue 14 §3): `shadow: true` on one quota, on the `windows` group or on the
// `concurrency` option watches a new rule next to enforced ones: it never refuses, events say
// what it would have refused, and the IETF headers do not list it. On every framework.
import { ConcurrencyLimiter, Quota } from '@sluice/core';
import { recordEvents } from '@sluice/test-support/events';
import type { TestApp } from '@sluice/test-support/frameworks';
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
const newRule = { ...hourly(2), id: 'new', reasonCode: 'new_rule', shadow: true };

/** The shadow `event_dropped` reasons and whether each request was accepted, per request. */
function summary(events: ReturnType<typeof recordEvents>) {
  return events
    .take()
    .flatMap((e) =>
      e.name === 'event_dropped'
        ? [
            `dropped ${(e.event as { reasonCode: string }).reasonCode}${(e.event as { shadow: boolean }).shadow ? ' (shadow)' : ''}`,
          ]
        : e.name === 'event_accepted'
          ? ['accepted']
          : [],
    );
}

describe.each(FRAMEWORKS)('shadow rules: $name', (framework) => {
  let app: TestApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });
  const get = () => app!.request({ path: '/api/1/store/', headers: auth });

  it('a shadow quota beside an enforced one: reported past its limit, never refusing, not an IETF policy', async () => {
    app = await framework.build({
      options: {
        store: frozenStore(),
        resolveProject,
        quotas: [hourly(4), newRule],
        rateLimitHeaders: true,
      },
    });
    const events = recordEvents(app.limiter);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await get()).status);
    expect(statuses).toEqual([200, 200, 200, 200, 429]);
    expect(summary(events)).toEqual([
      'accepted',
      'accepted',
      'dropped new_rule (shadow)',
      'accepted',
      'dropped new_rule (shadow)',
      'accepted',
      'dropped project_quota',
    ]);
    const res = await get();
    expect(res.headers['x-sentry-rate-limit-reason']).toBe('project_quota');
    expect(res.headers['x-sentry-rate-limits']).not.toContain('new_rule');
    expect(res.headers['ratelimit-policy']).toBe('"p";q=4;w=3600');
  });

  it('windows in shadow: a refusal is reported and the request goes on, its quotas kept', async () => {
    app = await framework.build({
      options: {
        store: frozenStore(),
        resolveProject,
        quotas: [hourly(100)],
        windows: {
          prefix: (_req, project) => `p${project.id}`,
          quotas: [new Quota({ windowSeconds: 60, granularitySeconds: 10, limit: 1 })],
          shadow: true,
        },
      },
    });
    const events = recordEvents(app.limiter);
    expect([(await get()).status, (await get()).status]).toEqual([200, 200]);
    expect(summary(events)).toEqual(['accepted', 'dropped sliding_window (shadow)', 'accepted']);
  });

  it('concurrency in shadow: a request without a slot goes on, reported', async () => {
    const store = frozenStore();
    app = await framework.build({
      options: {
        store,
        resolveProject,
        concurrency: { limit: 1, shadow: true },
        rateLimitHeaders: true,
      },
    });
    const events = recordEvents(app.limiter);
    // Another process holds project 1's only slot.
    const held = await new ConcurrencyLimiter(store, { limit: 1 }).acquire('1');
    expect(held).not.toBeNull();
    const res = await get();
    expect(res.status).toBe(200);
    expect(res.headers['ratelimit-policy']).toBeUndefined();
    expect(summary(events)).toEqual(['dropped concurrency_limit (shadow)', 'accepted']);
    await held!.release();
  });

  it('shadow on windows or concurrency must be a boolean', async () => {
    for (const options of [
      {
        windows: {
          prefix: () => 'p',
          quotas: [new Quota({ windowSeconds: 1, granularitySeconds: 1, limit: 1 })],
          shadow: 1,
        },
      },
      { concurrency: { limit: 1, shadow: 'yes' } },
    ]) {
      const error = await framework
        .build({ options: { resolveProject, ...(options as object) } })
        .then(
          async (built) => {
            await built.close();
            return undefined;
          },
          (thrown: unknown) => thrown,
        );
      expect((error as { option?: string }).option).toMatch(/^(windows|concurrency)\.shadow$/);
    }
  });
});
