import { InvalidConfiguration } from '../errors.js';
import { isValidPrefix } from '../store/key-parts.js';
import { integerAtLeast, MAX_DURATION_SECONDS } from '../validate.js';

/**
 * Options of a {@link Quota}.
 *
 * @example
 * ```ts
 * const options: QuotaOptions = { windowSeconds: 60, granularitySeconds: 1, limit: 100 };
 * ```
 */
export interface QuotaOptions {
  /** Length of the sliding window in seconds: a positive multiple of `granularitySeconds`, at most 1e9. */
  windowSeconds: number;
  /**
   * Step, in seconds, in which the window slides: usage is counted per granule of this length
   * and a granule leaves the window as a whole. Equal to `windowSeconds`, the window resets at
   * once; smaller, it slides more smoothly. A whole number of milliseconds (1, 60, 0.5 ...).
   */
  granularitySeconds: number;
  /** Units allowed within the window: an integer of 0 or more (0 grants nothing). */
  limit: number;
  /**
   * Counts this quota under this prefix instead of the request's own, so every request that
   * names it shares it (a global limit beside per-organization ones). Quotas are shared by
   * prefix, window and granularity, not by object identity.
   */
  prefixOverride?: string;
}

/** Tolerance when a number of seconds is read as a whole number of milliseconds. */
const MS_EPSILON = 1e-6;

/**
 * One sliding window: at most `limit` units within any `windowSeconds`, counted in granules of
 * `granularitySeconds`. A window holds `windowSeconds / granularitySeconds` granules and its
 * usage is the sum of their units. Immutable once built.
 *
 * @example
 * ```ts
 * const perMinute = new Quota({ windowSeconds: 60, granularitySeconds: 1, limit: 100 });
 * const global = new Quota({ windowSeconds: 60, granularitySeconds: 10, limit: 10_000,
 *   prefixOverride: 'global' });
 * ```
 */
export class Quota {
  /** Length of the window in seconds. */
  readonly windowSeconds: number;
  /** Length of one granule in seconds. */
  readonly granularitySeconds: number;
  /** Units allowed within the window. */
  readonly limit: number;
  /** Prefix under which this quota is counted instead of the request's, when set. */
  readonly prefixOverride?: string;
  /** Length of one granule in milliseconds (the store's unit). */
  readonly #granularityMs: number;
  /** Granules per window. */
  readonly #granules: number;

  constructor(options: QuotaOptions) {
    const parsed = parseQuota(options, '');
    this.windowSeconds = parsed.windowSeconds;
    this.granularitySeconds = parsed.granularitySeconds;
    this.limit = parsed.limit;
    if (parsed.prefixOverride !== undefined) this.prefixOverride = parsed.prefixOverride;
    this.#granularityMs = parsed.granularityMs;
    this.#granules = parsed.granules;
    Object.freeze(this);
  }

  /** Length of one granule in milliseconds. */
  get granularityMs(): number {
    return this.#granularityMs;
  }

  /** Number of granules in the window (`windowSeconds / granularitySeconds`). */
  get granulesPerWindow(): number {
    return this.#granules;
  }

  /**
   * The granule a request at `requestTimestamp` (seconds) is counted in:
   * `floor(requestTimestamp / granularitySeconds)`, computed in milliseconds as the store does.
   *
   * @example
   * ```ts
   * new Quota({ windowSeconds: 30, granularitySeconds: 10, limit: 100 }).granuleAt(902); // 90
   * ```
   */
  granuleAt(requestTimestamp: number): number {
    return Math.floor((requestTimestamp * 1000) / this.#granularityMs);
  }

  /**
   * The granules of the window of a request at `requestTimestamp` (seconds), newest first:
   * the granule the request is counted in, `floor(requestTimestamp / granularitySeconds)`,
   * then each older one, `windowSeconds / granularitySeconds` in all.
   *
   * @example
   * ```ts
   * const quota = new Quota({ windowSeconds: 3, granularitySeconds: 1, limit: 10 });
   * [...quota.iterWindow(900)]; // [900, 899, 898]
   * ```
   */
  *iterWindow(requestTimestamp: number): Iterable<number> {
    const newest = this.granuleAt(requestTimestamp);
    for (let i = 0; i < this.#granules; i++) yield newest - i;
  }
}

interface ParsedQuota {
  windowSeconds: number;
  granularitySeconds: number;
  limit: number;
  prefixOverride: string | undefined;
  granularityMs: number;
  granules: number;
}

/**
 * Validates the options of a quota; `path` leads every option name (`requests[0].quotas[1].`)
 * so the error names where the bad value sits.
 */
function parseQuota(options: unknown, path: string): ParsedQuota {
  if (options === null || typeof options !== 'object') {
    throw new InvalidConfiguration(path === '' ? 'options' : path.slice(0, -1), options, 'a Quota');
  }
  const o = options as Partial<QuotaOptions>;
  const granularityMs = wholeMilliseconds(`${path}granularitySeconds`, o.granularitySeconds);
  const windowMs = wholeMilliseconds(`${path}windowSeconds`, o.windowSeconds);
  if (windowMs % granularityMs !== 0) {
    throw new InvalidConfiguration(
      `${path}windowSeconds`,
      o.windowSeconds,
      `a positive multiple of granularitySeconds (${o.granularitySeconds})`,
    );
  }
  const limit = integerAtLeast(`${path}limit`, o.limit, 0);
  const prefixOverride = o.prefixOverride;
  if (prefixOverride !== undefined && !isValidPrefix(prefixOverride)) {
    throw new InvalidConfiguration(
      `${path}prefixOverride`,
      prefixOverride,
      'a non-empty string without `{` or `}`',
    );
  }
  return {
    windowSeconds: o.windowSeconds!,
    granularitySeconds: o.granularitySeconds!,
    limit,
    prefixOverride,
    granularityMs,
    granules: windowMs / granularityMs,
  };
}

/**
 * The quota `value` stands for: itself when it is a {@link Quota}, else validated as options.
 *
 * @example
 * ```ts
 * const quota = toQuota({ windowSeconds: 60, granularitySeconds: 1, limit: 5 }, 'requests[0].quotas[0]');
 * ```
 */
export function toQuota(value: unknown, path: string): Quota {
  if (value instanceof Quota) return value;
  parseQuota(value, `${path}.`);
  return new Quota(value as QuotaOptions);
}

function wholeMilliseconds(option: string, seconds: unknown): number {
  const expected = `a positive number of seconds in whole milliseconds, at most ${MAX_DURATION_SECONDS}`;
  if (typeof seconds !== 'number' || !(seconds > 0 && seconds <= MAX_DURATION_SECONDS)) {
    throw new InvalidConfiguration(option, seconds, expected);
  }
  const ms = Math.round(seconds * 1000);
  if (ms < 1 || !Number.isSafeInteger(ms) || Math.abs(seconds * 1000 - ms) > MS_EPSILON * ms) {
    throw new InvalidConfiguration(option, seconds, expected);
  }
  return ms;
}
