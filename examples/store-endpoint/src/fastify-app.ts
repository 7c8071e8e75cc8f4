import { createServer } from 'node:http';
import fastifyCors from '@fastify/cors';
import type { Store } from '@sluice/core';
import { sluicePlugin } from '@sluice/fastify';
import Fastify, { type FastifyInstance } from 'fastify';
import type { LoadedConfig } from './config.js';
import { CORS_POLICY } from './cors-policy.js';
import { acceptIngest, countDropped, readBody, sluiceOptions } from './endpoint.js';
import { withCanonicalUrl } from './endpoint-paths.js';
import { BODY_LIMITS, type IngestBody, IngestError } from './ingest.js';
import type { IngestLog } from './ingest-log.js';

/**
 * The endpoint on Fastify 5: CORS answers in `onRequest` (it ends preflights), sluice runs in
 * `preHandler`, after the body is read.
 */
export async function fastifyApp(
  config: LoadedConfig,
  store: Store,
  log: IngestLog,
): Promise<FastifyInstance> {
  const app = Fastify({
    bodyLimit: BODY_LIMITS.maxBodyBytes,
    serverFactory: (handler) => createServer(withCanonicalUrl(handler)),
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (request, raw, done) => {
    try {
      done(null, readBody(request.url, raw as Buffer, request.headers['content-encoding']));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  app.setErrorHandler((error: Error & { statusCode?: number }, _request, reply) => {
    const status = error instanceof IngestError ? error.status : (error.statusCode ?? 500);
    const message = status === 413 ? 'request body too large' : error.message;
    return reply.code(status).header('X-Sentry-Error', message).send({ error: message });
  });
  await app.register(fastifyCors, {
    origin: CORS_POLICY.origin,
    methods: [...CORS_POLICY.methods],
    allowedHeaders: [...CORS_POLICY.allowedHeaders],
    exposedHeaders: [...CORS_POLICY.exposedHeaders],
    maxAge: CORS_POLICY.maxAgeSeconds,
  });
  await app.register(sluicePlugin, { ...sluiceOptions(config, store), hook: 'preHandler' });
  countDropped(app.sluice, log);
  const ingest = async (request: {
    body: unknown;
    sluice?: Parameters<typeof acceptIngest>[1];
  }) => {
    if (request.body === undefined) throw new IngestError(400, 'empty body');
    return acceptIngest(request.body as IngestBody, request.sluice, log);
  };
  app.post('/api/:projectId/store/', ingest);
  app.post('/api/:projectId/envelope/', ingest);
  app.get<{ Params: { projectId: string } }>('/api/:projectId/stats/', async (request) =>
    log.stats(request.params.projectId),
  );
  return app;
}
