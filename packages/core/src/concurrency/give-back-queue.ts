/** First pause before a failed give-back is tried again, in ms. */
const FIRST_RETRY_MS = 25;
/**
 * Longest pause between two tries. Short, so every slot is back within about a second of the
 * store returning, yet a try per pending id every quarter second is nothing to a store that is up.
 */
const MAX_RETRY_MS = 250;

interface Pending {
  readonly storeKey: string;
  /** `performance.now()` past which the lease has expired in the store anyway. */
  readonly until: number;
}

/**
 * Lease ids that may hold a slot in the store although nobody in this process holds them: an
 * acquire step that missed its deadline (it may still have run), a release that failed. Each is
 * released in the background, all pending ids together on every try, retried with a jittered
 * backoff (25 ms doubling to 250 ms) until it succeeds or its lease would have expired anyway.
 * One try sends every pending id at once, so under the store's fail-fast probing the probe
 * clears the store and the next try, 25 ms later, gives back the rest.
 *
 * The timer is unref'd: pending give-backs never keep a process alive.
 *
 * @example
 * ```ts
 * const giveBacks = new GiveBackQueue({ leaseMs: 300_000, release: (storeKey, id) => forget(storeKey, id) });
 * giveBacks.add(storeKey, id); // after `store.run(acquireOperation, ...)` timed out
 * ```
 */
export class GiveBackQueue {
  readonly #pending = new Map<string, Pending>();
  readonly #leaseMs: number;
  readonly #release: (storeKey: string, id: string) => Promise<unknown>;
  #timer: NodeJS.Timeout | undefined;
  #trying = false;
  #retry = 0;

  constructor(options: {
    /** How long a lease lasts in the store: past it a give-back is pointless. */
    leaseMs: number;
    /** Releases `id` of `storeKey`; rejects when the store failed. */
    release: (storeKey: string, id: string) => Promise<unknown>;
  }) {
    this.#leaseMs = options.leaseMs;
    this.#release = options.release;
  }

  /** Ids waiting to be given back. */
  get size(): number {
    return this.#pending.size;
  }

  /** Gives `id` of `storeKey` back in the background, now or at the next try. */
  add(storeKey: string, id: string): void {
    this.#pending.set(id, { storeKey, until: performance.now() + this.#leaseMs });
    if (!this.#trying && this.#timer === undefined) void this.#try();
  }

  readonly #try = async (): Promise<void> => {
    this.#timer = undefined;
    this.#trying = true;
    const now = performance.now();
    const sent: Promise<unknown>[] = [];
    const ids: string[] = [];
    for (const [id, { storeKey, until }] of this.#pending) {
      if (until <= now) {
        this.#pending.delete(id);
        continue;
      }
      ids.push(id);
      sent.push(this.#release(storeKey, id));
    }
    const outcomes = await Promise.allSettled(sent);
    let anyBack = false;
    for (let i = 0; i < outcomes.length; i++) {
      if (outcomes[i]!.status === 'fulfilled') {
        this.#pending.delete(ids[i]!);
        anyBack = true;
      }
    }
    this.#trying = false;
    if (this.#pending.size === 0) {
      this.#retry = 0;
      return;
    }
    // The store answered: try the rest soon (fail-fast rejected them while it was probed).
    if (anyBack) this.#retry = 0;
    const cap = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** this.#retry++);
    this.#timer = setTimeout(this.#try, cap * (0.5 + Math.random() / 2));
    this.#timer.unref();
  };
}
