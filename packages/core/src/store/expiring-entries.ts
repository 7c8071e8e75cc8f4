/**
 * The per-key state of a memory store (sliding windows, lease sets): one entry per key with
 * its own expiry, since each key's expiry moves on its own. Expired entries are dropped when
 * read, and by {@link ExpiringEntries.sweep}, which walks the map in slices so no single step
 * holds the event loop for long.
 */

interface Entry {
  value: unknown;
  /** Store-clock milliseconds. */
  expiresAt: number;
  /** Written since the eviction hand last passed it (the CLOCK algorithm's reference bit). */
  recent: boolean;
}

/** The per-key entries of a memory store. */
export class ExpiringEntries {
  readonly #entries = new Map<string, Entry>();
  /** No entry expires before this (a lower bound): below it, a sweep has nothing to drop. */
  #earliest = Number.POSITIVE_INFINITY;
  /** Where the sweep stands, kept across slices; undefined between passes. */
  #sweepHand: Iterator<[string, Entry]> | undefined;
  /** Earliest expiry seen by the pass under way, for `#earliest` when it completes. */
  #passEarliest = Number.POSITIVE_INFINITY;
  /** Where the eviction hand stands, kept across evictions. */
  #evictHand: Iterator<[string, Entry]> | undefined;
  /** The entry the hand stopped at, to be evicted next unless written meanwhile. */
  #victim: [string, Entry] | undefined;

  /** Entries held, expired ones not yet swept included. */
  get size(): number {
    return this.#entries.size;
  }

  /** True when some entry may have expired at `now`, so a sweep would find work. */
  mayHoldExpired(now: number): boolean {
    return this.#entries.size > 0 && this.#earliest <= now;
  }

  /** The live value at `key`, or undefined (an expired entry is dropped). */
  get(key: string, now: number): unknown {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /** Milliseconds `key` has left, or -1 when absent or expired. */
  ttl(key: string, now: number): number {
    const entry = this.#entries.get(key);
    return entry === undefined || entry.expiresAt <= now ? -1 : entry.expiresAt - now;
  }

  /** Stores `value` at `key` until `expiresAt` and marks it recent; returns 1 when the key is new. */
  set(key: string, value: unknown, expiresAt: number): number {
    if (expiresAt < this.#earliest) this.#earliest = expiresAt;
    if (expiresAt < this.#passEarliest) this.#passEarliest = expiresAt;
    const known = this.#entries.get(key);
    if (known !== undefined) {
      known.value = value;
      known.expiresAt = expiresAt;
      known.recent = true;
      return 0;
    }
    this.#entries.set(key, { value, expiresAt, recent: false });
    return 1;
  }

  /** Removes `key`. */
  delete(key: string): void {
    this.#entries.delete(key);
  }

  /**
   * Walks at most `limit` entries from where the last slice stopped, dropping the expired
   * ones. Returns true when the pass is complete (the next call starts a new one).
   */
  sweep(now: number, limit: number): boolean {
    const entries = this.#entries;
    if (this.#sweepHand === undefined) {
      this.#sweepHand = entries.entries();
      this.#passEarliest = Number.POSITIVE_INFINITY;
    }
    for (let seen = 0; seen < limit; seen++) {
      const next = this.#sweepHand.next();
      if (next.done) {
        this.#sweepHand = undefined;
        // Every entry was looked at (or written, which lowers #passEarliest, since the pass began).
        this.#earliest = this.#passEarliest;
        return true;
      }
      const [key, entry] = next.value;
      if (entry.expiresAt <= now) entries.delete(key);
      else if (entry.expiresAt < this.#passEarliest) this.#passEarliest = entry.expiresAt;
    }
    return false;
  }

  /**
   * The expiry of the entry {@link evictOne} would drop next, after giving recent entries a
   * second chance; undefined when empty.
   */
  nextVictimExpiry(): number | undefined {
    return this.#candidate()?.[1].expiresAt;
  }

  /** Evicts one entry, the least recently written as CLOCK sees it; returns 1, or 0 when empty. */
  evictOne(): number {
    const candidate = this.#candidate();
    if (candidate === undefined) return 0;
    this.#entries.delete(candidate[0]);
    this.#victim = undefined;
    return 1;
  }

  /** Drops every entry. */
  clear(): void {
    this.#entries.clear();
    this.#sweepHand = undefined;
    this.#evictHand = undefined;
    this.#victim = undefined;
    this.#earliest = Number.POSITIVE_INFINITY;
  }

  /**
   * Moves the eviction hand to an entry not written since it last passed (clearing the bit of
   * the recent ones it passes, at most 64), and returns that entry, which stays the victim
   * until it is evicted, written or dropped.
   */
  #candidate(): [string, Entry] | undefined {
    const entries = this.#entries;
    const victim = this.#victim;
    if (victim !== undefined && !victim[1].recent && entries.get(victim[0]) === victim[1]) {
      return victim;
    }
    this.#victim = undefined;
    if (entries.size === 0) return undefined;
    for (let step = 0; ; step++) {
      this.#evictHand ??= entries.entries();
      const next = this.#evictHand.next();
      if (next.done) {
        this.#evictHand = undefined;
        continue;
      }
      const [key, entry] = next.value;
      if (entry.recent && step < 64) {
        entry.recent = false;
        // Second chance: to the back of the map, behind everything written since.
        entries.delete(key);
        entries.set(key, entry);
        continue;
      }
      this.#victim = [key, entry];
      return this.#victim;
    }
  }
}
