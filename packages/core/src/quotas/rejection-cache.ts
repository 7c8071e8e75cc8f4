import { positiveNumber } from '../validate.js';
import type { ExceededLimit, QuotaRemaining } from './rate-limit.js';

/** Seconds a remembered refusal lives at most, unless told otherwise. */
export const DEFAULT_REJECTION_CACHE_MAX_SECONDS = 1;

/** Most full counters remembered at once; the oldest is forgotten first. */
const MAX_ENTRIES = 10_000;

/** A full counter, remembered. */
interface Remembered {
  /** When the bound ends (`performance.now()`, ms): real time, whatever clock decides. */
  readonly boundUntil: number;
  /** When the counter's window resets (the decision clock, ms). */
  readonly resetAt: number;
  /** The refusal, as the store answered it. */
  readonly limit: ExceededLimit;
  /** The quota's state, for the IETF `RateLimit` headers. */
  readonly remaining: QuotaRemaining;
}

/** A refusal the cache still holds, with times counted from the lookup. */
export interface RememberedRefusal {
  readonly limit: ExceededLimit;
  readonly remaining: QuotaRemaining;
}

/**
 * Full quota counters, remembered in-process so a flood of over-quota requests costs about one
 * store round trip per counter per {@link RejectionCache.maxSeconds}. An entry is keyed by the
 * counter and the limit it was full at: it refuses only a request to which that same full quota
 * applies, never one whose quotas differ, and never beyond the window's end or the bound, so a
 * reset, a refund or another process is heard within `maxSeconds`. A refund made through the
 * same `Quotas` forgets the counter at once. Bounded to 10,000 counters.
 *
 * Two clocks: the window's end is read on `now`, the clock that decides (give a memory store's
 * injected `clock`, so a counter idle for an hour by that clock is not still refused), while the
 * `maxSeconds` bound is real elapsed time (`performance.now()`), since it is how long another
 * process's refund may go unheard.
 *
 * @example
 * ```ts
 * const quotas = new Quotas({ store, getQuotas, rejectionCache: new RejectionCache({ maxSeconds: 1 }) });
 * ```
 */
export class RejectionCache {
  /** Seconds a refusal is remembered at most. */
  readonly maxSeconds: number;
  /** Per counter key, its remembered refusals by the limit they were full at. */
  readonly #entries = new Map<string, Map<number, Remembered>>();
  readonly #now: () => number;

  /**
   * @param options.maxSeconds - real seconds a refusal is remembered at most (default 1).
   * @param options.now - the deciding clock in ms since the epoch (default `Date.now`).
   */
  constructor(options: { maxSeconds?: number; now?: () => number } = {}) {
    this.maxSeconds = positiveNumber(
      'rejectionCacheMaxSeconds',
      options.maxSeconds ?? DEFAULT_REJECTION_CACHE_MAX_SECONDS,
    );
    this.#now = options.now ?? Date.now;
  }

  /** Counters remembered (some may have expired): 0 means no lookup is needed. */
  get size(): number {
    return this.#entries.size;
  }

  /** The remembered refusal of the counter `key` at `limit`, if it is still in force. */
  get(key: string, limit: number): RememberedRefusal | undefined {
    const byLimit = this.#entries.get(key);
    const entry = byLimit?.get(limit);
    if (entry === undefined) return undefined;
    const now = this.#now();
    if (entry.resetAt <= now || entry.boundUntil <= performance.now()) {
      byLimit!.delete(limit);
      if (byLimit!.size === 0) this.#entries.delete(key);
      return undefined;
    }
    const resetAfter = Math.max(0, (entry.resetAt - now) / 1000);
    return {
      limit: { ...entry.limit, retryAfter: resetAfter },
      remaining: { ...entry.remaining, resetAfter },
    };
  }

  /** Remembers that the counter `key` is full at `limit` until its window resets (`limit.retryAfter`). */
  remember(key: string, limit: ExceededLimit, remaining: QuotaRemaining): void {
    const now = this.#now();
    const resetAt = now + limit.retryAfter * 1000;
    if (!(resetAt > now)) return;
    const boundUntil = performance.now() + this.maxSeconds * 1000;
    // Re-inserted, so the map's order stays oldest-written first.
    const byLimit = this.#entries.get(key) ?? new Map<number, Remembered>();
    this.#entries.delete(key);
    byLimit.set(remaining.limit, { boundUntil, resetAt, limit, remaining });
    this.#entries.set(key, byLimit);
    if (this.#entries.size > MAX_ENTRIES) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
  }

  /** Forgets every limit remembered for the counter `key` (after a refund or a reset). */
  forget(key: string): void {
    this.#entries.delete(key);
  }
}
