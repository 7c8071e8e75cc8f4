import type { Refusal } from './answers.js';

/** Most refusals remembered at once; the oldest is forgotten first. */
const MAX_ENTRIES = 10_000;

interface Remembered {
  /** When the longest refusal ends, in ms. */
  readonly until: number;
  /** Each refusal with the instant it ends, in ms. */
  readonly refusals: ReadonlyArray<{ refusal: Refusal; endsAt: number }>;
}

/**
 * Refusals of full quotas, remembered in-process until their retry time, so a flood of
 * requests that are already over quota costs no store round trip each. Bounded.
 */
export class RejectionCache {
  readonly #entries = new Map<string, Remembered>();

  /** The refusals still in force for `key`, with retry times counted from `nowMs`. */
  get(key: string, nowMs: number): Refusal[] | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.until <= nowMs) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.refusals
      .filter((r) => r.endsAt > nowMs)
      .map((r) => ({ ...r.refusal, retryAfter: (r.endsAt - nowMs) / 1000 }));
  }

  /** Remembers `refusals` for `key` until the longest of them ends. */
  set(key: string, refusals: readonly Refusal[], nowMs: number): void {
    const remembered = refusals.map((refusal) => ({
      refusal,
      endsAt: nowMs + refusal.retryAfter * 1000,
    }));
    const until = Math.max(...remembered.map((r) => r.endsAt));
    if (!(until > nowMs)) return;
    this.#entries.delete(key);
    this.#entries.set(key, { until, refusals: remembered });
    if (this.#entries.size > MAX_ENTRIES) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
  }
}
