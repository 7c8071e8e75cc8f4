import type { Project, RequestOutcome, SluiceOptions, Store } from '@sluice/core';
import type { HttpLimiter } from '@sluice/core/adapter';
import type { LoadedConfig, ProjectConfig } from './config.js';
import { ingestKind, STATS_PATH } from './endpoint-paths.js';
import { decodeBody, type IngestBody, itemsToDecide, readIngest } from './ingest.js';
import type { IngestLog } from './ingest-log.js';

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
    const count =
      body?.items.reduce((sum, i) => (i.category === category ? sum + i.count : sum), 0) ?? 1;
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
