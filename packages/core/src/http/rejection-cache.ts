import type { QuotaRemaining } from '../quotas/rate-limit.js';
import type { Refusal } from './answers.js';

/** Most refusals remembered at once; the oldest is forgotten first. */
const MAX_ENTRIES = 10_000;

interface Remembered {
  /** When the longest refusal ends, in ms. */
  readonly until: number;
  /** Each refusal with the instant it ends, in ms. */
  readonly refusals: ReadonlyArray<{ refusal: Refusal; endsAt: number }>;
  /** The full quota, for the IETF `RateLimit` headers, and when its window resets, in ms. */
  readonly tightest?: { quota: QuotaRemaining; resetAt: number };
}

/** What the cache still holds for a key. */
export interface CachedRefusal {
  readonly refusals: Refusal[];
  /** The full quota, with `resetAfter` counted from the lookup. */
  readonly tightest?: QuotaRemaining;
}

/**
 * Refusals of full quotas, remembered in-process until their retry time, so a flood of
 * requests that are already over quota costs no store round trip each. Bounded.
 */
export class RejectionCache {
  readonly #entries = new Map<string, Remembered>();

  /** Keys remembered (some may have expired): 0 means no lookup is needed. */
  get size(): number {
    return this.#entries.size;
  }

  /** The refusals still in force for `key`, with retry and reset times counted from `nowMs`. */
  get(key: string, nowMs: number): CachedRefusal | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.until <= nowMs) {
      this.#entries.delete(key);
      return undefined;
    }
    const refusals = entry.refusals
      .filter((r) => r.endsAt > nowMs)
      .map(({ refusal, endsAt }) => ({
        retryAfter: (endsAt - nowMs) / 1000,
        categories: refusal.categories,
        scope: refusal.scope,
        reasonCode: refusal.reasonCode,
      }));
    if (entry.tightest === undefined) return { refusals };
    const { quota, resetAt } = entry.tightest;
    const { limit, remaining, windowSeconds, full } = quota;
    const resetAfter = Math.max(0, (resetAt - nowMs) / 1000);
    return { refusals, tightest: { limit, remaining, windowSeconds, resetAfter, full } };
  }

  /** Remembers `refusals` (and the full quota, `tightest`) for `key` until the longest ends. */
  set(key: string, refusals: readonly Refusal[], nowMs: number, tightest?: QuotaRemaining): void {
    const remembered = refusals.map((refusal) => ({
      refusal,
      endsAt: nowMs + refusal.retryAfter * 1000,
    }));
    const until = Math.max(...remembered.map((r) => r.endsAt));
    if (!(until > nowMs)) return;
    this.#entries.delete(key);
    const entry: Remembered =
      tightest === undefined
        ? { until, refusals: remembered }
        : {
            until,
            refusals: remembered,
            tightest: { quota: tightest, resetAt: nowMs + tightest.resetAfter * 1000 },
          };
    this.#entries.set(key, entry);
    if (this.#entries.size > MAX_ENTRIES) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
  }
}
