// What only Fastify has: per-route `config.sluice`, the hook the plugin runs in, and
// encapsulation. The contract itself runs on Fastify in contract.test.ts.
import { InvalidConfiguration } from '@sluice/core';
import { sluicePlugin } from '@sluice/fastify';
import { recordEvents } from '@sluice/test-support/events';
import {
  frozenStore,
  hourly,
  PROJECTS,
  resolveProject,
  sentryAuth,
} from '@sluice/test-support/projects';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';

const auth = sentryAuth(PROJECTS.one.key);
let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

describe('sluicePlugin', () => {
  it('takes Fastify’s own register options (prefix, logLevel), and no other unknown one', async () => {
    app = Fastify();
    await app.register(
      async (scope) => {
        scope.get('/api/1/store/', async () => ({ ok: true }));
      },
      { prefix: '/v1' },
    );
    await app.register(sluicePlugin, {
      store: frozenStore(),
      resolveProject,
      quotas: [hourly(1)],
      prefix: '/v2',
      logLevel: 'warn',
    });
    app.get('/api/1/store/', async () => ({ ok: true }));
    expect((await app.inject({ url: '/api/1/store/', headers: auth })).statusCode).toBe(200);
    await app.close();
    app = Fastify();
    const error = await app
      .register(sluicePlugin, { resolveProject, quota: [hourly(1)] } as never)
      .then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
    expect(error).toBeInstanceOf(InvalidConfiguration);
    expect((error as InvalidConfiguration).option).toBe('quota');
  });

  it('config: { sluice: false } leaves a route alone', async () => {
    app = Fastify();
    await app.register(sluicePlugin, { store: frozenStore(), resolveProject, quotas: [hourly(1)] });
    const events = recordEvents(app.sluice.limiter);
    app.get('/api/1/health/', { config: { sluice: false } }, async () => ({ ok: true }));
    app.get('/api/1/store/', async () => ({ ok: true }));
    const open = await app.inject({ url: '/api/1/health/' });
    expect(open.statusCode).toBe(200);
    expect(open.headers['access-control-expose-headers']).toBeUndefined();
    expect(events.take()).toEqual([]);
    expect((await app.inject({ url: '/api/1/store/' })).statusCode).toBe(401);
  });

  it('runs a route’s config stage after the route’s own hooks of the same kind', async () => {
    app = Fastify();
    await app.register(sluicePlugin, { store: frozenStore(), resolveProject });
    const order: string[] = [];
    app.sluice.events.on('event_received', () => order.push('limiter'));
    app.get(
      '/api/1/store/',
      {
        config: { sluice: { quotas: [hourly(1)] } },
        onRequest: [
          async () => {
            order.push('own hook');
          },
        ],
      },
      async () => ({ ok: true }),
    );
    expect((await app.inject({ url: '/api/1/store/', headers: auth })).statusCode).toBe(200);
    expect(order).toEqual(['limiter', 'own hook']);
    const refused = await app.inject({ url: '/api/1/store/', headers: auth });
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['x-sentry-rate-limit-reason']).toBe('project_quota');
  });

  it('limits only the context it is registered in', async () => {
    app = Fastify();
    await app.register(async (limited) => {
      await limited.register(sluicePlugin, { store: frozenStore(), resolveProject });
      limited.get('/api/1/store/', async () => ({ ok: true }));
    });
    app.get('/api/1/public/', async () => ({ ok: true }));
    expect((await app.inject({ url: '/api/1/store/' })).statusCode).toBe(401);
    expect((await app.inject({ url: '/api/1/public/' })).statusCode).toBe(200);
  });

  it('refuses an unknown hook, and invalid route options, with InvalidConfiguration', async () => {
    app = Fastify();
    const hook = 'onSend' as 'onRequest';
    const error = await app.register(sluicePlugin, { resolveProject, hook }).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(InvalidConfiguration);
    expect((error as InvalidConfiguration).option).toBe('hook');
    await app.close();

    app = Fastify();
    await app.register(sluicePlugin, { resolveProject });
    const routeError = await (async () => {
      app.get('/x', { config: { sluice: { quantity: -1 } } }, async () => ({}));
      await app.ready();
    })().then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(routeError).toBeInstanceOf(InvalidConfiguration);
    expect((routeError as InvalidConfiguration).option).toBe('quantity');
  });

  it('notFound: true limits requests that match no route (default handler or the app’s), counted like any other; off by default', async () => {
    const flood = async (instance: FastifyInstance) => {
      const answers: string[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await instance.inject({ url: `/api/1/nothing-${i}/`, headers: auth });
        answers.push(`${res.statusCode}${res.body.includes('custom') ? ' custom' : ''}`);
      }
      return answers;
    };
    for (const custom of [false, true]) {
      app = Fastify();
      await app.register(sluicePlugin, {
        store: frozenStore(),
        resolveProject,
        quotas: [hourly(2)],
      });
      if (custom) app.setNotFoundHandler((_req, reply) => reply.code(404).send({ custom: true }));
      expect(await flood(app)).toEqual(Array(5).fill(custom ? '404 custom' : '404'));
      await app.close();

      app = Fastify();
      await app.register(sluicePlugin, {
        store: frozenStore(),
        resolveProject,
        quotas: [hourly(2)],
        notFound: true,
      });
      const events = recordEvents(app.sluice.limiter);
      if (custom) app.setNotFoundHandler((_req, reply) => reply.code(404).send({ custom: true }));
      app.get('/api/1/store/', async () => ({ ok: true }));
      const miss = custom ? '404 custom' : '404';
      expect(await flood(app)).toEqual([miss, miss, '429', '429', '429']);
      const refused = await app.inject({ url: '/api/1/gone/', headers: auth });
      expect(refused.headers['x-sentry-rate-limit-reason']).toBe('project_quota');
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      // The same counter as the routes': the project has used its 2.
      expect((await app.inject({ url: '/api/1/store/', headers: auth })).statusCode).toBe(429);
      // Without auth, a miss is a 401 like any request, and is not counted.
      expect((await app.inject({ url: '/api/1/other/' })).statusCode).toBe(401);
      const names = events.take().map((e) => e.name);
      expect(names.filter((n) => n === 'event_dropped')).toHaveLength(5);
      expect(names.filter((n) => n === 'event_accepted')).toHaveLength(2);
      await app.close();
    }
    app = Fastify();
    const error = await app
      .register(sluicePlugin, { resolveProject, notFound: 'yes' as never })
      .then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
    expect((error as InvalidConfiguration).option).toBe('notFound');
  });
});
