/** Header values as Node gives them: lower-case names, repeated headers as arrays. */
export type HttpHeaders = Record<string, string | string[] | undefined>;

/**
 * The framework-neutral request an adapter hands to core: what it read from its framework,
 * nothing parsed by a router.
 */
export interface HttpRequest {
  /** HTTP method. */
  readonly method: string;
  /** The request target as received: path and query string (`/api/42/store/?sentry_key=...`). */
  readonly url: string;
  /** Request headers with lower-case names. */
  readonly headers: HttpHeaders;
  /** Client IP as the framework resolved it under its own trust-proxy setting. */
  readonly ip: string;
  /** The parsed body, when the framework has parsed it already (passed on as events' `data`). */
  readonly body?: unknown;
}

/** The request as `identify`, `skip`, `category`, `quantity`, `items` and `prefix` see it. */
export interface SluiceRequest {
  readonly method: string;
  /** The path without the query string. */
  readonly path: string;
  readonly headers: HttpHeaders;
  /** Query parameters; a repeated parameter is an array. */
  readonly query: Record<string, string | string[]>;
  readonly ip: string;
  readonly body?: unknown;
}

/** Splits the request target into path and query the same way for every framework. */
export function toSluiceRequest(request: HttpRequest): SluiceRequest {
  const url = request.url;
  const mark = url.indexOf('?');
  const path = mark === -1 ? url : url.slice(0, mark);
  const query: Record<string, string | string[]> = {};
  if (mark !== -1) {
    for (const [name, value] of new URLSearchParams(url.slice(mark + 1))) {
      const known = query[name];
      query[name] =
        known === undefined ? value : Array.isArray(known) ? [...known, value] : [known, value];
    }
  }
  const view: SluiceRequest = {
    method: request.method,
    path,
    headers: request.headers,
    query,
    ip: request.ip,
  };
  return request.body === undefined
    ? view
    : { method: view.method, path, headers: view.headers, query, ip: view.ip, body: request.body };
}

/** Result of reading the project id from the path: absent, a decimal id, or invalid. */
export type PathProjectId = { ok: true; projectId?: string } | { ok: false };

/**
 * The project id of a Sentry-style path: the segment right after `/api/` (`/api/42/store/`),
 * in any letter case (`/API/42/STORE`, as Express and Sentry route), which must be a decimal
 * number. A path without `/api/` leaves the project to the key.
 *
 * @example
 * ```ts
 * projectIdFromPath('/API/42/envelope'); // { ok: true, projectId: '42' }
 * projectIdFromPath('/api/abc/store/'); // { ok: false }
 * ```
 */
export function projectIdFromPath(path: string): PathProjectId {
  const match = API_SEGMENT.exec(path);
  if (match === null) return { ok: true };
  const segment = match[1]!;
  if (segment === '') return { ok: true };
  return /^\d{1,18}$/.test(segment) ? { ok: true, projectId: segment } : { ok: false };
}

const API_SEGMENT = /\/api\/([^/]*)/i;
