import type { IncomingMessage, ServerResponse } from 'node:http';

/** The ingest routes, as the frameworks see them: `/api/:projectId/store/` and `/envelope/`. */
export const INGEST_PATH = /^\/api\/[^/]+\/(store|envelope)\/(?:\?|$)/;
/** `GET /api/:projectId/stats/`, answered without authentication. */
export const STATS_PATH = /^\/api\/([^/]+)\/stats\/(?:\?|$)/;

/** The endpoint's routes in any letter case, with or without the trailing slash. */
const ANY_FORM = /^\/api\/([^/?]+)\/(store|envelope|stats)\/?(?=\?|$)/i;

/**
 * The one spelling of an endpoint route: `/API/42/Store?x=1` becomes `/api/42/store/?x=1`.
 * Sentry accepts its paths with or without the trailing slash; the frameworks disagree on
 * letter case (Express ignores it, Fastify and Koa's matching do not) and on the slash, and
 * sluice reads the project id from the path as written. Spelling the route once, before any
 * framework or sluice sees it, makes all three answer alike. Other paths pass unchanged.
 *
 * @example
 * canonicalUrl('/API/42/ENVELOPE?sentry_key=abc'); // '/api/42/envelope/?sentry_key=abc'
 * canonicalUrl('/health'); // '/health'
 */
export function canonicalUrl(url: string): string {
  const match = ANY_FORM.exec(url);
  if (match === null) return url;
  return `/api/${match[1]}/${match[2]!.toLowerCase()}/${url.slice(match[0].length)}`;
}

/**
 * Wraps a Node request listener so every request reaches it with its {@link canonicalUrl}:
 * the framework's `originalUrl`, its router and sluice then all read the same path.
 *
 * @example
 * createServer(withCanonicalUrl(app)).listen(3000);
 */
export function withCanonicalUrl(
  listener: (req: IncomingMessage, res: ServerResponse) => void,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    req.url = canonicalUrl(req.url ?? '/');
    listener(req, res);
  };
}

/** The kind of ingest route `url` (canonical) names, or undefined. */
export function ingestKind(url: string): 'store' | 'envelope' | undefined {
  return INGEST_PATH.exec(url)?.[1] as 'store' | 'envelope' | undefined;
}
