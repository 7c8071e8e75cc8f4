// Counting by outcome (issue 13 §2): `skipFailedRequests` and `skipSuccessfulRequests` with
// express-rate-limit's names and meaning, and a `requestWasSuccessful` of the app's, done by a
// refund once the response has closed (a response the client abandoned is a failure). On every
// framework, on memory and on Redis; the counts are read back through `Quotas.getUsage`.
import { request } from 'node:http';
import { type Project, Quotas, type Store } from '@sluice/core';
import { recordEvents } from '@sluice/test-support/events';
import type { AppSpec, TestApp } from '@sluice/test-support/frameworks';
import { FRAMEWORKS } from '@sluice/test-support/frameworks';
import {
  frozenStore,
  hourly,
  PROJECTS,
  resolveProject,
  sentryAuth,
} from '@sluice/test-support/projects';
import { useStore } from '@sluice/test-support/stores';
import { afterEach, describe, expect, it } from 'vitest';

const auth = sentryAuth(PROJECTS.one.key);
const project: Project = { id: 1, organizationId: 10 };

/** Polls `read` until it gives `expected` (a refund lands after the response closed), or fails. */
async function eventually(read: () => Promise<number>, expected: number): Promise<void> {
  const deadline = Date.now() + 3000;
  let value = await read();
  while (value !== expected && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    value = await read();
  }
  expect(value).toBe(expected);
}

describe.each(FRAMEWORKS)('counting by outcome: $name', (framework) => {
  const redis = useStore('redis');
  let app: TestApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  for (const kind of ['memory', 'redis'] as const) {
    const storeOf = (): Store => (kind === 'memory' ? frozenStore() : redis.store());
    async function build(options: Partial<AppSpec['options']>, store = storeOf()) {
      app = await framework.build({
        options: { store, resolveProject, quotas: [hourly(3)], ...options },
      });
      const usage = new Quotas({ store, getQuotas: () => [hourly(3)] });
      const used = async () => (await usage.getUsage(project))[0]!.used!;
      return { app, used, events: recordEvents(app.limiter) };
    }
    const get = (path: string) => app!.request({ path, headers: auth });

    it(`${kind}: skipFailedRequests gives back what failed requests counted, keeps the rest`, async () => {
      const { used } = await build({ skipFailedRequests: true });
      for (let i = 0; i < 5; i++) expect((await get('/api/1/fail/')).status).toBe(500);
      await eventually(used, 0);
      for (let i = 0; i < 3; i++) expect((await get('/api/1/store/')).status).toBe(200);
      await eventually(used, 3);
      expect((await get('/api/1/store/')).status).toBe(429);
    });

    it(`${kind}: skipSuccessfulRequests counts only the failures`, async () => {
      const { used } = await build({ skipSuccessfulRequests: true });
      for (let i = 0; i < 5; i++) expect((await get('/api/1/store/')).status).toBe(200);
      await eventually(used, 0);
      for (let i = 0; i < 3; i++) expect((await get('/api/1/fail/')).status).toBe(500);
      await eventually(used, 3);
      expect((await get('/api/1/store/')).status).toBe(429);
    });

    it(`${kind}: requestWasSuccessful decides, and one that throws counts the request and says so`, async () => {
      const { used, events } = await build({
        skipFailedRequests: true,
        // The app calls its 500s successes and its 200s failures.
        requestWasSuccessful: (req, { statusCode }) => {
          if (req.query.boom !== undefined) throw new Error('app bug');
          return statusCode === 500;
        },
      });
      for (let i = 0; i < 2; i++) expect((await get('/api/1/fail/')).status).toBe(500);
      await eventually(used, 2);
      expect((await get('/api/1/store/')).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 50));
      await eventually(used, 2);
      expect((await get('/api/1/fail/?boom=1')).status).toBe(500);
      await eventually(used, 3);
      const errors = events.take().filter((e) => e.name === 'config_error');
      expect(errors.map((e) => (e.event as { option: string }).option)).toEqual([
        'requestWasSuccessful()',
      ]);
    });
  }

  it('a response the client abandoned is a failure: given back with skipFailedRequests, kept without', async () => {
    for (const skipFailedRequests of [true, false]) {
      const { app: built, used } = await build0(framework, redis.store(), skipFailedRequests);
      app = built;
      const { port } = await built.listen();
      for (let i = 0; i < 2; i++) await abandon(port, '/api/1/hang/');
      await eventually(used, skipFailedRequests ? 0 : 2);
      await built.close();
      app = undefined;
    }
  });

  it('a refused request counted nothing, so a 429 gives nothing back; shadow decisions are never given back', async () => {
    const store = frozenStore();
    const usage = new Quotas({ store, getQuotas: () => [hourly(1)] });
    const used = async () => (await usage.getUsage(project))[0]!.used!;
    app = await framework.build({
      options: { store, resolveProject, quotas: [hourly(1)], skipFailedRequests: true },
    });
    expect((await app.request({ path: '/api/1/store/', headers: auth })).status).toBe(200);
    for (let i = 0; i < 2; i++) {
      expect((await app.request({ path: '/api/1/store/', headers: auth })).status).toBe(429);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await used()).toBe(1);
    await app.close();

    app = await framework.build({
      options: {
        store: frozenStore(),
        resolveProject,
        quotas: [hourly(5)],
        skipSuccessfulRequests: true,
        mode: 'shadow',
      },
    });
    const shadowUsage = new Quotas({
      store: app.limiter.options.store!,
      getQuotas: () => [hourly(5)],
    });
    for (let i = 0; i < 3; i++) {
      expect((await app.request({ path: '/api/1/store/', headers: auth })).status).toBe(200);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    // Shadow decisions count what enforcement would count, and are what it would have done.
    expect((await shadowUsage.getUsage(project))[0]!.used).toBe(3);
  });
});

async function build0(
  framework: (typeof FRAMEWORKS)[number],
  store: Store,
  skipFailedRequests: boolean,
) {
  const app = await framework.build({
    options: { store, resolveProject, quotas: [hourly(3)], skipFailedRequests },
  });
  const usage = new Quotas({ store, getQuotas: () => [hourly(3)] });
  return { app, used: async () => (await usage.getUsage(project))[0]!.used! };
}

/** Sends a request over a real socket and hangs up once the server has it in hand. */
function abandon(port: number, path: string): Promise<void> {
  return new Promise((resolve) => {
    const req = request({ port, path, headers: auth, host: '127.0.0.1' });
    req.on('error', () => resolve());
    req.end();
    setTimeout(() => {
      req.destroy();
      resolve();
    }, 100);
  });
}
