/**
 * An independent reading of rate-limit answers, written from the Sentry JavaScript SDK's rules
 * (getsentry/sentry-javascript `packages/core/src/utils/ratelimit.ts`), not from sluice's code:
 *
 * - `X-Sentry-Rate-Limits` wins when present: its entries are separated by `,`; each is
 *   `retryAfter:categories:scope:reasonCode[:namespaces]`; `retryAfter` is read as an integer
 *   number of seconds (60 when it is not a number); empty categories limit every category
 *   (`all`), else each `;`-separated category is limited.
 * - Else `Retry-After`: an integer number of seconds, else an HTTP date, else 60 s, for `all`.
 * - Else a bare 429 limits `all` for 60 s.
 *
 * On top of what the SDK tolerates, {@link strictRateLimits} checks Relay's grammar exactly, so
 * a header the SDK would read by luck fails the test.
 */

/** Disabled-until instants in ms per category (`all`: every category), as the SDK keeps them. */
export type SdkRateLimits = Record<string, number>;

const DEFAULT_SECONDS = 60;

/** What the SDK concludes from a response's status and (lower-case) headers at `nowMs`. */
export function sdkRateLimits(
  response: { status: number; headers: Record<string, string | undefined> },
  nowMs: number,
): SdkRateLimits {
  const limits: SdkRateLimits = {};
  const header = response.headers['x-sentry-rate-limits'];
  const retryAfter = response.headers['retry-after'];
  if (header) {
    for (const entry of header.trim().split(',')) {
      const [seconds = '', categories = ''] = entry.split(':');
      const delayMs = integerOr(seconds, DEFAULT_SECONDS) * 1000;
      if (categories === '') limits.all = nowMs + delayMs;
      else for (const category of categories.split(';')) limits[category] = nowMs + delayMs;
    }
  } else if (retryAfter) {
    limits.all = nowMs + retryAfterMs(retryAfter, nowMs);
  } else if (response.status === 429) {
    limits.all = nowMs + DEFAULT_SECONDS * 1000;
  }
  return limits;
}

/** Milliseconds a `Retry-After` value asks to wait, as the SDK reads it. */
export function retryAfterMs(value: string, nowMs: number): number {
  const seconds = integerOr(value, Number.NaN);
  if (!Number.isNaN(seconds)) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? DEFAULT_SECONDS * 1000 : date - nowMs;
}

/** One entry of `X-Sentry-Rate-Limits`, checked against Relay's grammar. */
export interface RateLimitEntry {
  retryAfter: number;
  categories: string[];
  scope: string;
  reasonCode: string | undefined;
}

const ENTRY = /^(\d+):([a-z_]+(?:;[a-z_]+)*)?:(organization|project|key|global)(?::([a-z0-9_]+))?$/;

/**
 * Parses `X-Sentry-Rate-Limits` strictly: entries joined by exactly `, `, whole seconds, known
 * scopes, lower-case category and reason names. Throws on anything else.
 */
export function strictRateLimits(header: string): RateLimitEntry[] {
  return header.split(', ').map((entry) => {
    const match = ENTRY.exec(entry);
    if (match === null) throw new Error(`not Relay's grammar: ${JSON.stringify(entry)}`);
    return {
      retryAfter: Number(match[1]),
      categories: match[2] === undefined ? [] : match[2].split(';'),
      scope: match[3]!,
      reasonCode: match[4],
    };
  });
}

/** `parseInt(value, 10)` as JavaScript reads it, or `fallback` when that is NaN. */
function integerOr(value: string, fallback: number): number {
  const match = /^\s*([+-]?\d+)/.exec(value);
  return match === null ? fallback : Number.parseInt(match[1]!, 10);
}
