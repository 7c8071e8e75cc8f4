/** The header whose value sluice adds to rather than replaces. */
export const EXPOSE_HEADERS = 'Access-Control-Expose-Headers';

/**
 * How an adapter reads and sets a header on its framework's response object: two plain
 * functions of the target, made once per adapter, so writing headers allocates nothing per
 * request.
 */
export interface HeaderAccess<T> {
  /** The value the response holds for `name` (a string, a list, or absent). */
  get(target: T, name: string): unknown;
  /** Sets `name` to `value` on the response. */
  set(target: T, name: string, value: string): void;
}

/**
 * Writes sluice's `headers` on `target` through the framework's own `access`. Every header is
 * set as it is, except `Access-Control-Expose-Headers`, whose names are added to any the app's
 * CORS middleware set already (each name once, compared without letter case).
 * `Access-Control-Allow-*` are never among sluice's headers: they stay as the CORS middleware
 * set them.
 *
 * @example
 * ```ts
 * const NODE_RESPONSE: HeaderAccess<ServerResponse> = {
 *   get: (res, name) => res.getHeader(name),
 *   set: (res, name, value) => void res.setHeader(name, value),
 * };
 * writeHeaders(decision.headers, res, NODE_RESPONSE);
 * ```
 */
export function writeHeaders<T>(
  headers: Readonly<Record<string, string>>,
  target: T,
  access: HeaderAccess<T>,
): void {
  for (const name in headers) {
    const value = headers[name]!;
    access.set(
      target,
      name,
      name === EXPOSE_HEADERS ? mergeNames(access.get(target, name), value) : value,
    );
  }
}

/**
 * `existing` (a header value as frameworks hold it: a string, a list or absent) with the
 * comma-separated `added` names appended, each name once (a `*` the app set is kept, and the
 * names are still added: `*` is literal on credentialed requests).
 *
 * @example
 * ```ts
 * mergeNames('X-Request-Id, retry-after', 'Retry-After, X-Sentry-Error'); // 'X-Request-Id, retry-after, X-Sentry-Error'
 * ```
 */
export function mergeNames(existing: unknown, added: string): string {
  const list =
    typeof existing === 'string'
      ? existing
      : Array.isArray(existing)
        ? existing.join(', ')
        : undefined;
  if (list === undefined || list.trim() === '') return added;
  const names = list
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const seen = new Set(names.map((name) => name.toLowerCase()));
  for (const name of added.split(', ')) {
    if (!seen.has(name.toLowerCase())) {
      seen.add(name.toLowerCase());
      names.push(name);
    }
  }
  return names.join(', ');
}
