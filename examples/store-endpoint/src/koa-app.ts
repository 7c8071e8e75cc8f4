import { createServer, type Server } from 'node:http';
import cors from '@koa/cors';
import type { Store } from '@sluice/core';
import { sluice } from '@sluice/koa';
import Koa from 'koa';
import type { LoadedConfig } from './config.js';
import { CORS_POLICY } from './cors-policy.js';
import { acceptIngest, countDropped, readBody, sluiceOptions } from './endpoint.js';
import { ingestKind, STATS_PATH, withCanonicalUrl } from './endpoint-paths.js';
import { type IngestBody, IngestError } from './ingest.js';
import type { IngestLog } from './ingest-log.js';
import { readRawBody } from './raw-body.js';

/**
 * The endpoint on Koa (2 or 3): CORS first (it ends preflights), then the body is read, then
 * sluice decides.
 */
export function koaApp(
  config: LoadedConfig,
  store: Store,
  log: IngestLog,
): (port: number) => Promise<Server> {
  const app = new Koa();
  const limiter = sluice(sluiceOptions(config, store));
  countDropped(limiter, log);
  app.use(
    cors({
      origin: CORS_POLICY.origin,
      allowMethods: [...CORS_POLICY.methods],
      allowHeaders: [...CORS_POLICY.allowedHeaders],
      exposeHeaders: [...CORS_POLICY.exposedHeaders],
      maxAge: CORS_POLICY.maxAgeSeconds,
    }),
  );
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      const status = error instanceof IngestError ? error.status : 500;
      ctx.status = status;
      ctx.set('X-Sentry-Error', (error as Error).message);
      ctx.body = { error: (error as Error).message };
    }
  });
  app.use(async (ctx, next) => {
    const stats = ctx.method === 'GET' ? STATS_PATH.exec(ctx.originalUrl) : null;
    if (stats !== null) {
      ctx.body = log.stats(stats[1]!);
      return;
    }
    if (ctx.method !== 'POST' || ingestKind(ctx.originalUrl) === undefined) {
      ctx.status = 404;
      return;
    }
    (ctx.request as { body?: unknown }).body = readBody(
      ctx.originalUrl,
      await readRawBody(ctx.req),
      ctx.get('content-encoding') || undefined,
    );
    await next();
  });
  app.use(limiter);
  app.use((ctx) => {
    ctx.body = acceptIngest(
      (ctx.request as { body?: unknown }).body as IngestBody,
      ctx.state.sluice,
      log,
    );
  });
  return (port) =>
    new Promise((resolve) => {
      const server = createServer(withCanonicalUrl(app.callback())).listen(port, '127.0.0.1', () =>
        resolve(server),
      );
    });
}
