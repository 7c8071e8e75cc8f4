/**
 * Most blocked keys a process remembers; past it the block remembered longest ago is forgotten
 * (the store still holds it, so the next request of that key costs one store call again).
 *
 * @example
 * ```ts
 * const blocks = new LocalBlocks(Date.now, MAX_LOCAL_BLOCKS);
 * ```
 */
export const MAX_LOCAL_BLOCKS = 10_000;

/**
 * The blocks this process has seen, by key, until they end by its own clock: a blocked key is
 * answered without a store call. Bounded, and an ended block is dropped when next read.
 *
 * @example
 * ```ts
 * const blocks = new LocalBlocks(Date.now, 100);
 * blocks.remember('42', 30_000);
 * blocks.remainingMs('42'); // 30000 (less as time passes)
 * ```
 */
export class LocalBlocks {
  readonly #clock: () => number;
  readonly #max: number;
  /** Key -> end of its block by {@link LocalBlocks.#clock}, ms. */
  readonly #until = new Map<string, number>();

  constructor(clock: () => number, max: number) {
    this.#clock = clock;
    this.#max = max;
  }

  /** Keys remembered, ended blocks not yet dropped included. */
  get size(): number {
    return this.#until.size;
  }

  /** Remembers that `key` is blocked for `blockedMs` from now (at `nowMs`, when given). */
  remember(key: string, blockedMs: number, nowMs = this.#clock()): void {
    this.#until.delete(key);
    if (this.#until.size >= this.#max) this.#evict(nowMs);
    this.#until.set(key, nowMs + blockedMs);
  }

  /** Milliseconds `key` stays blocked as this process knows it (at `nowMs`, when given); 0: none known. */
  remainingMs(key: string, nowMs = this.#clock()): number {
    const until = this.#until.get(key);
    if (until === undefined) return 0;
    if (until <= nowMs) {
      this.#until.delete(key);
      return 0;
    }
    return until - nowMs;
  }

  /** Forgets `key`'s block (a reset). */
  forget(key: string): void {
    this.#until.delete(key);
  }

  /**
   * Makes room for one: drops the blocks remembered longest ago (the map keeps insertion
   * order) up to and including the first one still live, so a flood of new blocks costs
   * constant time each, never a scan of the map. Ended blocks elsewhere go when next read.
   */
  #evict(nowMs: number): void {
    for (const [key, until] of this.#until) {
      this.#until.delete(key);
      if (until > nowMs && this.#until.size < this.#max) return;
    }
  }
}
