// onStoreError against a Redis that is unreachable and a private one that hangs (SIGSTOP): each
// request is answered within the store's deadline + 100 ms, with a `store_error` event. And the
// rejection cache on a private Redis: a flood of over-quota requests sends about one EVALSHA a second.
import { type Project, StoreUnavailableError } from '@sluice/core';
import { RedisStore } from '@sluice/core/redis';
import { recordEvents } from '@sluice/test-support/events';
import { FRAMEWORKS } from '@sluice/test-support/frameworks';
import { PROJECTS, resolveProject, sentryAuth } from '@sluice/test-support/projects';
import { freePort, type RedisServer, startRedisServer } from '@sluice/test-support/redis';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const DEADLINE_MS = 200;
const auth = sentryAuth(PROJECTS.one.key);
const project = { id: 1, organizationId: 10 };

let unreachable: Redis;
let hung: { server: RedisServer; client: Redis };
let counted: { server: RedisServer; client: Redis };
let prefixes = 0;

const quietClient = (url: string) => {
  const client = new Redis(url, { maxRetriesPerRequest: 1, retryStrategy: () => 50 });
  client.on('error', () => undefined);
  return client;
};

beforeAll(async () => {
  unreachable = quietClient(`redis://127.0.0.1:${await freePort()}`);
  const [hungServer, countedServer] = await Promise.all([startRedisServer(), startRedisServer()]);
  hung = { server: hungServer, client: quietClient(hungServer.url) };
  counted = { server: countedServer, client: quietClient(countedServer.url) };
  await Promise.all([hung.client.ping(), counted.client.ping()]);
  hung.server.process.kill('SIGSTOP');
});

afterAll(async () => {
  hung.server.process.kill('SIGCONT');
  for (const client of [unreachable, hung.client, counted.client]) client.disconnect();
  await Promise.all([hung.server.stop(), counted.server.stop()]);
});

describe.each(FRAMEWORKS)('store failures: $name', (framework) => {
  const faults = [
    ['unreachable', () => unreachable],
    ['hung (SIGSTOP)', () => hung.client],
  ] as const;
  describe.each(faults)('a Redis that is %s', (_fault, client) => {
    const build = (onStoreError: 'allow' | 'deny') =>
      framework.build({
        options: {
          store: new RedisStore(client(), { prefix: `fault${++prefixes}`, timeoutMs: DEADLINE_MS }),
          resolveProject,
          quotas: [
            {
              id: 'p',
              scope: 'project',
              limit: 10,
              windowSeconds: 60,
              reasonCode: 'project_quota',
            },
          ],
          concurrency: { limit: 5 },
          onStoreError,
        },
      });

    it('allow: admits the request within the deadline + 100 ms and reports store_error', async () => {
      const app = await build('allow');
      const events = recordEvents(app.limiter);
      try {
        const started = performance.now();
        const res = await app.request({ path: '/api/1/store/', headers: auth });
        const elapsed = performance.now() - started;
        expect(res.status).toBe(200);
        expect(elapsed).toBeLessThan(DEADLINE_MS + 100);
        const recorded = events.take();
        expect(recorded.map((e) => e.name)).toEqual([
          'event_received',
          'store_error',
          'event_accepted',
        ]);
        expect(recorded[1]!.event).toMatchObject({ policy: 'allow', project });
        expect((recorded[1]!.event as { error: unknown }).error).toBeInstanceOf(
          StoreUnavailableError,
        );
      } finally {
        await app.close();
      }
    });

    it('deny: answers 503 within the deadline + 100 ms and reports store_error', async () => {
      const app = await build('deny');
      const events = recordEvents(app.limiter);
      try {
        const started = performance.now();
        const res = await app.request({ path: '/api/1/store/', headers: auth });
        const elapsed = performance.now() - started;
        expect(res.status).toBe(503);
        expect(elapsed).toBeLessThan(DEADLINE_MS + 100);
        const body = JSON.parse(res.body) as { error: string };
        expect(body.error).toEqual(expect.any(String));
        expect(res.headers['x-sentry-error']).toBe(body.error);
        expect(res.headers['x-sentry-rate-limit-reason']).toBe('store_unavailable');
        expect(res.headers['retry-after']).toBe('1');
        const recorded = events.take();
        expect(recorded.map((e) => e.name)).toEqual([
          'event_received',
          'store_error',
          'event_dropped',
        ]);
        expect(recorded[1]!.event).toMatchObject({ policy: 'deny', project });
        expect(recorded[2]!.event).toMatchObject({
          reasonCode: 'store_unavailable',
          shadow: false,
        });
      } finally {
        await app.close();
      }
    });
  });

  it('a flood of over-quota requests sends about one EVALSHA per second to Redis (the rejection cache)', async () => {
    // An organization whose daily window is half over now, so no window starts during the test.
    const organizationId = (Math.floor(Date.now() / 1000) + 43_200) % 86_400;
    const lookup = (auth_: { publicKey: string }): Project | null => {
      const found = resolveProject(auth_);
      return found && { ...found, organizationId };
    };
    const app = await framework.build({
      options: {
        store: new RedisStore(counted.client, { prefix: `cache${++prefixes}`, timeoutMs: 2000 }),
        resolveProject: lookup,
        quotas: [
          {
            id: 'p',
            scope: 'project',
            limit: 2,
            windowSeconds: 86_400,
            reasonCode: 'project_quota',
          },
        ],
      },
    });
    try {
      for (const status of [200, 200, 429]) {
        expect((await app.request({ path: '/api/1/store/', headers: auth })).status).toBe(status);
      }
      const before = await scriptCalls(counted.client);
      const startedAt = performance.now();
      for (let i = 0; i < 200; i++) {
        expect((await app.request({ path: '/api/1/store/', headers: auth })).status).toBe(429);
      }
      // A full quota is remembered for rejectionCacheMaxSeconds (1 s by default): at most one
      // script call per second of flood, however many requests it holds.
      const seconds = (performance.now() - startedAt) / 1000;
      expect((await scriptCalls(counted.client)) - before).toBeLessThanOrEqual(Math.ceil(seconds));
    } finally {
      await app.close();
    }
  });
});

/** EVALSHA and EVAL calls Redis has run, from `INFO commandstats`. */
async function scriptCalls(client: Redis): Promise<number> {
  const info = await client.info('commandstats');
  let calls = 0;
  for (const match of info.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+)/gm))
    calls += Number(match[1]);
  return calls;
}
