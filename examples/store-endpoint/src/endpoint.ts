import type { HttpLimiter, Project, RequestOutcome, SluiceOptions, Store } from '@sluice/core';
import type { LoadedConfig, ProjectConfig } from './config.js';
import { decodeBody, type IngestBody, itemsToDecide, readIngest } from './ingest.js';
import type { IngestLog } from './ingest-log.js';

/** The ingest routes: `POST /api/:projectId/store/` and `POST /api/:projectId/envelope/`. */
export const INGEST_PATH = /^\/api\/[^/]+\/(store|envelope)\/?(?:\?|$)/;
/** `GET /api/:projectId/stats/`, answered without authentication. */
export const STATS_PATH = /^\/api\/([^/]+)\/stats\/?(?:\?|$)/;

/** The kind of ingest route `url` names, or undefined. */
export function ingestKind(url: string): 'store' | 'envelope' | undefined {
  return INGEST_PATH.exec(url)?.[1] as 'store' | 'envelope' | undefined;
}

/** Decodes and reads the body of an ingest request: what sluice and the handler work on. */
export function readBody(
  url: string,
  raw: Buffer,
  contentEncoding: string | string[] | undefined,
): IngestBody {
  const encoding = Array.isArray(contentEncoding) ? contentEncoding.join(',') : contentEncoding;
  return readIngest(ingestKind(url) ?? 'envelope', decodeBody(raw, encoding));
}

/**
 * sluice's options for the endpoint: projects and keys from the configuration, each project's
 * quotas, and one decision per data category of the items the request carries.
 */
export function sluiceOptions(config: LoadedConfig, store: Store): SluiceOptions {
  return {
    store,
    resolveProject: ({ publicKey }) => config.projectOfKey(publicKey) ?? null,
    quotas: (project) => (project as ProjectConfig).quotas,
    items: (req) => itemsToDecide(req.body as IngestBody | undefined),
    skip: (req) => req.method === 'GET' && STATS_PATH.test(req.path),
  };
}

/** Counts dropped items per category and reason into the log, from the limiter's events. */
export function countDropped(limiter: Pick<HttpLimiter, 'events'>, log: IngestLog): void {
  limiter.events.on('event_dropped', (event) => {
    if (event.shadow) return;
    const body = event.data as IngestBody | undefined;
    const category = event.category ?? 'default';
    const count = body?.items.filter((i) => i.category === category).length ?? 1;
    log.dropped(event.project.id, category, event.reasonCode, Math.max(count, 1));
  });
}

/**
 * Keeps what sluice accepted, drops the items of limited categories, and answers like Sentry:
 * `{ "id": "<event_id>" }` (or `{}` for an envelope without one).
 */
export function acceptIngest(
  body: IngestBody,
  outcome: RequestOutcome | undefined,
  log: IngestLog,
): object {
  const dropped = new Set(outcome?.dropped.map((d) => d.category));
  const kept = body.items.filter((i) => i.category === undefined || !dropped.has(i.category));
  const project: Project | undefined = outcome?.project;
  if (project !== undefined) log.accepted(project.id, body.eventId, kept);
  return body.eventId === undefined ? {} : { id: body.eventId };
}
