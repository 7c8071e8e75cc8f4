/** The header whose value sluice adds to rather than replaces. */
export const EXPOSE_HEADERS = 'Access-Control-Expose-Headers';

/**
 * Writes sluice's `headers` through a framework's own getter and setter. Every header is set as
 * it is, except `Access-Control-Expose-Headers`, whose names are added to any the app's CORS
 * middleware set already (each name once, compared without letter case). `Access-Control-Allow-*`
 * are never among sluice's headers: they stay as the CORS middleware set them.
 *
 * @example
 * ```ts
 * writeHeaders(decision.headers, (name) => res.getHeader(name), (name, value) => res.setHeader(name, value));
 * ```
 */
export function writeHeaders(
  headers: Readonly<Record<string, string>>,
  get: (name: string) => unknown,
  set: (name: string, value: string) => void,
): void {
  for (const name in headers) {
    const value = headers[name]!;
    set(name, name === EXPOSE_HEADERS ? mergeNames(get(name), value) : value);
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
