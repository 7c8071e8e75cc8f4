import { createServer, type Server } from 'node:http';
import type { Store } from '@sluice/core';
import { sluice } from '@sluice/express';
import cors from 'cors';
import express, { type ErrorRequestHandler } from 'express';
import type { LoadedConfig } from './config.js';
import { CORS_POLICY } from './cors-policy.js';
import { acceptIngest, countDropped, readBody, sluiceOptions } from './endpoint.js';
import { ingestKind, withCanonicalUrl } from './endpoint-paths.js';
import { type IngestBody, IngestError } from './ingest.js';
import type { IngestLog } from './ingest-log.js';
import { readRawBody } from './raw-body.js';

/**
 * The endpoint on Express (4 or 5): CORS first (it ends preflights), then the body is read,
 * then sluice decides.
 */
export function expressApp(
  config: LoadedConfig,
  store: Store,
  log: IngestLog,
): (port: number) => Promise<Server> {
  const app = express();
  const limiter = sluice(sluiceOptions(config, store));
  countDropped(limiter, log);
  app.use(
    cors({
      origin: CORS_POLICY.origin,
      methods: [...CORS_POLICY.methods],
      allowedHeaders: [...CORS_POLICY.allowedHeaders],
      exposedHeaders: [...CORS_POLICY.exposedHeaders],
      maxAge: CORS_POLICY.maxAgeSeconds,
    }),
  );
  app.use((req, _res, next) => {
    if (req.method !== 'POST' || ingestKind(req.originalUrl) === undefined) return next();
    readRawBody(req)
      .then((raw) => {
        req.body = readBody(req.originalUrl, raw, req.headers['content-encoding']);
      })
      .then(() => next(), next);
  });
  app.use(limiter);
  const ingest: express.RequestHandler = (req, res) => {
    res.json(acceptIngest(req.body as IngestBody, req.sluice, log));
  };
  app.post('/api/:projectId/store/', ingest);
  app.post('/api/:projectId/envelope/', ingest);
  app.get('/api/:projectId/stats/', (req, res) => {
    res.json(log.stats(String(req.params.projectId)));
  });
  const onError: ErrorRequestHandler = (error: Error, _req, res, _next) => {
    const status = error instanceof IngestError ? error.status : 500;
    res.status(status).set('X-Sentry-Error', error.message).json({ error: error.message });
  };
  app.use(onError);
  return (port) =>
    new Promise((resolve) => {
      const server = createServer(withCanonicalUrl(app)).listen(port, '127.0.0.1', () =>
        resolve(server),
      );
    });
}
