/**
 * The fixed-window counters of a memory store, grouped by the instant their window ends. The
 * counters of one window share one expiry, so a window is one `Map<string, number>` with flat
 * string keys and no object per counter, and its expiry drops the whole map at once: nothing
 * is walked key by key.
 *
 * A used count is held as `count * 2 + bit`, where the low bit says "written since the eviction
 * hand last passed" (the CLOCK approximation of least recently used), so marking a counter
 * recent costs nothing beyond the write itself.
 */
export class CounterWindow {
  /** Store-clock milliseconds at which every counter of the window is gone. */
  expiresAt: number;
  /** Used count per counter key, times two, plus the recent bit. */
  readonly used = new Map<string, number>();
  /** Refunded count per counter key; absent until the window's first refund. */
  refunded: Map<string, number> | undefined;
  /** Where the eviction hand stands in `used` (insertion order), kept across evictions. */
  #hand: Iterator<[string, number]> | undefined;

  constructor(expiresAt: number) {
    this.expiresAt = expiresAt;
  }

  /** Counters held, used and refunded. */
  get size(): number {
    return this.used.size + (this.refunded?.size ?? 0);
  }

  /** True when the window holds a used or refunded count of `key`. */
  has(key: string): boolean {
    return this.used.has(key) || this.refunded?.has(key) === true;
  }

  /** `used - refunded` of `key`; 0 when it holds nothing. */
  usage(key: string): number {
    const used = this.used.get(key);
    const refunded = this.refunded === undefined ? 0 : (this.refunded.get(key) ?? 0);
    return (used === undefined ? 0 : (used - (used % 2)) / 2) - refunded;
  }

  /**
   * Adds `n` to the used count of `key` and marks it recent; returns the number of counters
   * this created (0 or 1).
   */
  count(key: string, n: number): number {
    const used = this.used.get(key);
    if (used === undefined) {
      // A new counter enters without the recent bit, as CLOCK admits a page.
      this.used.set(key, n * 2);
      return 1;
    }
    this.used.set(key, used - (used % 2) + n * 2 + 1);
    return 0;
  }

  /** Adds `n` to the refunded count of `key`; returns the number of counters this created. */
  refund(key: string, n: number): number {
    this.refunded ??= new Map();
    const refunded = this.refunded.get(key);
    this.refunded.set(key, (refunded ?? 0) + n);
    return refunded === undefined ? 1 : 0;
  }

  /**
   * Evicts one counter: the first in insertion order not written since the hand last passed
   * it, giving each recent one a second chance (its bit cleared, moved to the back); looks at
   * no more than `maxSteps` counters. Returns the number of counters dropped (its used and
   * refunded count go together), 0 when the window is empty.
   */
  evictOne(maxSteps = 64): number {
    const { used, refunded } = this;
    if (used.size === 0) {
      if (refunded === undefined || refunded.size === 0) return 0;
      const first = refunded.keys().next().value as string;
      refunded.delete(first);
      return 1;
    }
    for (let step = 0; ; step++) {
      this.#hand ??= used.entries();
      const next = this.#hand.next();
      if (next.done) {
        this.#hand = undefined;
        continue;
      }
      const [key, value] = next.value;
      if (value % 2 === 1 && step < maxSteps) {
        used.delete(key);
        used.set(key, value - 1);
        continue;
      }
      used.delete(key);
      return 1 + (refunded?.delete(key) ? 1 : 0);
    }
  }
}

/**
 * Every {@link CounterWindow} of a store, by the decision-time instant its window ends, with
 * the bookkeeping to expire whole windows and to find the one that expires soonest.
 */
export class CounterWindows {
  readonly #windows = new Map<number, CounterWindow>();
  /**
   * The window last found and where it ends, since the quotas of one decision usually share
   * one. Coherent: it is always a window of `#windows` (reset when that window is dropped).
   */
  #lastEnd = Number.NaN;
  #last: CounterWindow | undefined;
  /** Counters held in every window. */
  size = 0;

  /** Number of windows held. */
  get windowCount(): number {
    return this.#windows.size;
  }

  /** The live window that ends at `windowEndMs`, or undefined (an expired one is dropped). */
  find(windowEndMs: number, now: number): CounterWindow | undefined {
    const window = windowEndMs === this.#lastEnd ? this.#last : this.#windows.get(windowEndMs);
    if (window === undefined) return undefined;
    if (window.expiresAt > now) {
      this.#lastEnd = windowEndMs;
      this.#last = window;
      return window;
    }
    this.#drop(windowEndMs, window);
    return undefined;
  }

  /**
   * The window that ends at `windowEndMs`, created when absent, living at least until
   * `expiresAt` (store-clock ms): counters new to it live as long as the call that made them
   * asked, as a Redis key's TTL is set when it is created. Opening a new window drops the
   * expired ones.
   */
  open(windowEndMs: number, now: number, expiresAt: number): CounterWindow {
    let window = this.find(windowEndMs, now);
    if (window === undefined) {
      // A new window is rare (one per window length and shift at each rollover), and the
      // windows it follows have usually just expired: drop them now rather than at the timer.
      this.expire(now);
      window = new CounterWindow(expiresAt);
      this.#windows.set(windowEndMs, window);
    } else if (expiresAt > window.expiresAt) {
      window.expiresAt = expiresAt;
    }
    return window;
  }

  /** Drops every window expired at `now`; returns the number of counters dropped. */
  expire(now: number): number {
    let dropped = 0;
    for (const [end, window] of this.#windows) {
      if (window.expiresAt <= now) dropped += this.#drop(end, window);
    }
    return dropped;
  }

  /** The live window that expires first, or undefined when none holds a counter. */
  soonest(): CounterWindow | undefined {
    let soonest: CounterWindow | undefined;
    for (const window of this.#windows.values()) {
      if (window.size > 0 && (soonest === undefined || window.expiresAt < soonest.expiresAt)) {
        soonest = window;
      }
    }
    return soonest;
  }

  /** Evicts one counter of `window` (see {@link CounterWindow.evictOne}); returns how many went. */
  evictFrom(window: CounterWindow): number {
    const dropped = window.evictOne();
    this.size -= dropped;
    return dropped;
  }

  /** Drops every window. */
  clear(): void {
    this.#windows.clear();
    this.#last = undefined;
    this.#lastEnd = Number.NaN;
    this.size = 0;
  }

  #drop(end: number, window: CounterWindow): number {
    this.#windows.delete(end);
    if (window === this.#last) {
      this.#last = undefined;
      this.#lastEnd = Number.NaN;
    }
    const dropped = window.size;
    this.size -= dropped;
    return dropped;
  }
}
