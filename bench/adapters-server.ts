// One benchmark server, run by bench/adapters.ts in a child process of its own: one framework
// with no limiter, with sluice (memory or Redis), or with the framework's popular limiter
// (memory or Redis), all limiting per project with the same limit and window. It listens on a
// free loopback port, tells the parent the port over IPC, and answers `cpu` with its CPU time.
//
// Usage (by the parent): node --import tsx bench/adapters-server.ts <framework> <config> <limit> [redis-url]
import type { Server } from 'node:http';
import fastifyRateLimit from '@fastify/rate-limit';
import type { Project, QuotaConfig, SluiceOptions, Store } from '@sluice/core';
import { MemoryStore } from '@sluice/core';
import { RedisStore } from '@sluice/core/redis';
import { sluice as expressSluice } from '@sluice/express';
import { sluicePlugin } from '@sluice/fastify';
import { sluice as koaSluice } from '@sluice/koa';
import { rateLimit } from 'express-rate-limit';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import koaRateLimit from 'koa-ratelimit';
import { RedisStore as RateLimitRedisStore, type RedisReply } from 'rate-limit-redis';

export const FRAMEWORKS = ['express', 'koa', 'fastify'] as const;
export const CONFIGS = [
  'bare',
  'sluice-memory',
  'sluice-redis',
  'peer-memory',
  'peer-redis',
] as const;
export type FrameworkName = (typeof FRAMEWORKS)[number];
export type ConfigName = (typeof CONFIGS)[number];

/** Projects 1..100 in 10 organizations; the key of project n is `key` + n, padded. */
export const PROJECT_COUNT = 100;
export const keyOf = (id: number) => `benchkey${String(id).padStart(24, '0')}`;
export const WINDOW_SECONDS = 3600;
/** ioredis options of every client, sluice's and the peers'. */
export const REDIS_OPTIONS = { maxRetriesPerRequest: 1, enableOfflineQueue: true } as const;

/** What the bench uses of Express and Koa, loaded untyped: the bench package has no @types for them. */
interface App {
  use(middleware: unknown): void;
  listen(port: number, host: string): Server;
}
interface ExpressApp extends App {
  get(path: string, handler: (req: unknown, res: { json(body: unknown): void }) => void): void;
}
const load = async <T>(name: string): Promise<T> =>
  ((await import(name)) as { default: T }).default;

const projects = new Map<string, Project>();
for (let id = 1; id <= PROJECT_COUNT; id++)
  projects.set(keyOf(id), { id, organizationId: 1 + (id % 10) });
/** The project id of `/api/<id>/store/`, the peers' key: the same per-project counter as sluice's. */
const projectOfPath = (url: string) => url.split('/')[2] ?? '';
const OK = { ok: true };

function sluiceOptions(store: Store, limit: number): SluiceOptions {
  const quota: QuotaConfig = {
    id: 'p',
    scope: 'project',
    limit,
    windowSeconds: WINDOW_SECONDS,
    reasonCode: 'project_quota',
  };
  return {
    store,
    resolveProject: ({ publicKey }) => projects.get(publicKey) ?? null,
    quotas: [quota],
  };
}

async function serve(
  framework: FrameworkName,
  config: ConfigName,
  limit: number,
  redisUrl?: string,
) {
  const redis = config.endsWith('redis') ? new Redis(redisUrl!, REDIS_OPTIONS) : undefined;
  const store = redis ? new RedisStore(redis) : new MemoryStore();
  const options = sluiceOptions(store, limit);
  const windowMs = WINDOW_SECONDS * 1000;

  if (framework === 'fastify') {
    const app = Fastify();
    if (config.startsWith('sluice')) await app.register(sluicePlugin, options);
    if (config.startsWith('peer')) {
      await app.register(fastifyRateLimit, {
        max: limit,
        timeWindow: windowMs,
        keyGenerator: (request) => projectOfPath(request.url),
        ...(redis ? { redis } : {}),
      });
    }
    app.get('/api/:id/store/', async () => OK);
    await app.listen({ port: 0, host: '127.0.0.1' });
    return (app.server.address() as { port: number }).port;
  }

  if (framework === 'express') {
    const app = (await load<() => ExpressApp>('express'))();
    if (config.startsWith('sluice')) app.use(expressSluice(options));
    if (config.startsWith('peer')) {
      app.use(
        rateLimit({
          limit,
          windowMs,
          keyGenerator: (req) => projectOfPath(req.url ?? ''),
          standardHeaders: 'draft-8',
          legacyHeaders: false,
          validate: false,
          ...(redis
            ? {
                store: new RateLimitRedisStore({
                  sendCommand: (command: string, ...args: string[]) =>
                    redis.call(command, ...args) as Promise<RedisReply>,
                }),
              }
            : {}),
        }),
      );
    }
    app.get('/api/:id/store/', (_req, res) => {
      res.json(OK);
    });
    return listen((port) => app.listen(port, '127.0.0.1'));
  }

  const app = new (await load<new () => App>('koa'))();
  if (config.startsWith('sluice')) app.use(koaSluice(options));
  if (config.startsWith('peer')) {
    app.use(
      koaRateLimit({
        driver: redis ? 'redis' : 'memory',
        db: redis ?? new Map(),
        duration: windowMs,
        max: limit,
        id: (ctx) => projectOfPath(ctx.path),
      }),
    );
  }
  app.use((ctx: { path: string; body: unknown }) => {
    if (/^\/api\/\d+\/store\/$/.test(ctx.path)) ctx.body = OK;
  });
  return listen((port) => app.listen(port, '127.0.0.1'));
}

function listen(start: (port: number) => Server): Promise<number> {
  return new Promise((resolve) => {
    const server = start(0);
    server.once('listening', () => resolve((server.address() as { port: number }).port));
  });
}

if (process.send !== undefined) {
  const [framework, config, limit, redisUrl] = process.argv.slice(2);
  const port = await serve(
    framework as FrameworkName,
    config as ConfigName,
    Number(limit),
    redisUrl,
  );
  process.on('message', (message) => {
    if (message === 'cpu') process.send!({ cpu: process.cpuUsage() });
  });
  process.send({ port });
}
