/**
 * What may stand in a header sluice writes. Values from configuration (reason codes,
 * categories of quotas) must be {@link isHeaderToken tokens}, checked at construction; values
 * from requests (categories) are {@link encodeCategory encoded}, so nothing a client sends can
 * break a header or add an entry to `X-Sentry-Rate-Limits`.
 */

/** Longest data category a request may name, in characters; longer is a 400. */
export const MAX_CATEGORY_LENGTH = 128;

/** Longest reason code, in characters. */
export const MAX_REASON_CODE_LENGTH = 128;

/**
 * An HTTP token (RFC 9110 `tchar`) without `%`, which {@link encodeCategory} keeps for its
 * escapes: no space, no control character, none of the `,`, `:` and `;` that separate
 * `X-Sentry-Rate-Limits`.
 */
const TOKEN = /^[!#$&'*+\-.^_`|~0-9A-Za-z]+$/;
const NOT_TOKEN = /[^!#$&'*+\-.^_`|~0-9A-Za-z]/gu;

/**
 * True when `value` may be written into a header as it is and cannot split an
 * `X-Sentry-Rate-Limits` entry: 1 to `maxLength` token characters.
 *
 * @example
 * ```ts
 * isHeaderToken('project_quota'); // true
 * isHeaderToken('a, 1:error:organization:forged'); // false
 * ```
 */
export function isHeaderToken(value: unknown, maxLength = MAX_REASON_CODE_LENGTH): boolean {
  return typeof value === 'string' && value.length <= maxLength && TOKEN.test(value);
}

/**
 * A data category as `X-Sentry-Rate-Limits` can carry it: token characters stay, every other
 * character becomes the `%XX` escapes of its UTF-8 bytes (`%` itself too, so the encoding is
 * one-to-one). Lone surrogates become U+FFFD first.
 *
 * @example
 * ```ts
 * encodeCategory('error'); // 'error'
 * encodeCategory('a, 1:b'); // 'a%2C%201%3Ab'
 * ```
 */
export function encodeCategory(category: string): string {
  if (TOKEN.test(category)) return category;
  return category.replace(NOT_TOKEN, percentEncode);
}

function percentEncode(c: string): string {
  let encoded: string;
  try {
    encoded = encodeURIComponent(c);
  } catch {
    return '%EF%BF%BD'; // a lone surrogate: U+FFFD
  }
  // `(` and `)` are left alone by encodeURIComponent but are not token characters.
  return encoded === c ? `%${c.charCodeAt(0).toString(16).toUpperCase()}` : encoded;
}

/** Seconds a `limit: 0` window or quota asks a client to wait, as Relay answers reject-all. */
export const REJECT_ALL_SECONDS = 60;

/**
 * Whole seconds for `Retry-After` and `X-Sentry-Rate-Limits`: rounded up, at least 1, and
 * finite (a wait without end, `Infinity`, is said as {@link REJECT_ALL_SECONDS}).
 *
 * @example
 * ```ts
 * wholeSeconds(0.2); // 1
 * wholeSeconds(Infinity); // 60
 * ```
 */
export function wholeSeconds(seconds: number): number {
  if (!Number.isFinite(seconds)) return REJECT_ALL_SECONDS;
  return Math.max(1, Math.ceil(seconds - 1e-9));
}
