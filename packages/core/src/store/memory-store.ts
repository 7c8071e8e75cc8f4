import { InvalidConfiguration } from '../errors.js';
import { integerAtLeast } from '../validate.js';
import type { MemoryState, Reply, Store, StoreCall, StoreOperation } from './store.js';

/** Default bound on the number of keys a {@link MemoryStore} holds. */
export const DEFAULT_MAX_KEYS = 1_000_000;

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /**
   * Most keys held at once; when full, the least recently written key is evicted (which resets
   * that counter: watch {@link MemoryStore.evicted}).
   * @default 1_000_000
   */
  maxKeys?: number;
  /** Milliseconds since the epoch; inject one to control time in tests. @default Date.now */
  clock?: () => number;
  /** Prefix of every key. @default 'sluice' */
  prefix?: string;
}

interface Entry {
  value: unknown;
  expiresAt: number;
  /** Written since the eviction hand last passed it (the CLOCK algorithm's reference bit). */
  recent: boolean;
}

/** Entries looked at per new key to drop expired state without a timer. */
const SWEEP_PER_INSERT = 2;

/**
 * The embedded default store: a bounded map with a clock, in this process only. Each operation
 * runs as one synchronous step, so it is atomic within the process. Expired state is dropped
 * as it is met and swept a little on every new key; when `maxKeys` is reached, a key not
 * written since the eviction hand last passed it is evicted (CLOCK, the usual approximation of
 * least-recently-used that costs no reordering per write) and counted in
 * {@link MemoryStore.evicted}.
 *
 * @example
 * ```ts
 * const quotas = new Quotas({ store: new MemoryStore({ maxKeys: 100_000 }), getQuotas });
 * ```
 */
export class MemoryStore implements Store {
  /** Prefix of every key. */
  readonly prefix: string;
  /** Most keys held at once. */
  readonly maxKeys: number;
  /** Always false: one map holds every key. */
  readonly clustered = false;
  /** How many live keys were evicted because the store was full. */
  evicted = 0;

  readonly #entries = new Map<string, Entry>();
  readonly #clock: () => number;
  #now = 0;
  readonly #state: MemoryState;
  #queued: Array<{
    operation: StoreOperation;
    call: StoreCall;
    resolve: (reply: Reply) => void;
    reject: (error: unknown) => void;
  }> = [];

  constructor(options: MemoryStoreOptions = {}) {
    this.maxKeys = integerAtLeast('maxKeys', options.maxKeys ?? DEFAULT_MAX_KEYS, 1);
    if (options.clock !== undefined && typeof options.clock !== 'function') {
      throw new InvalidConfiguration('clock', options.clock, 'a function returning milliseconds');
    }
    this.#clock = options.clock ?? Date.now;
    this.prefix = options.prefix ?? 'sluice';
    const entries = this.#entries;
    this.#state = {
      get: <T>(key: string): T | undefined => {
        const entry = entries.get(key);
        if (entry === undefined) return undefined;
        if (entry.expiresAt <= this.#now) {
          entries.delete(key);
          return undefined;
        }
        return entry.value as T;
      },
      set: (key, value, ttlMs) => this.#set(key, value, ttlMs),
      ttl: (key) => {
        const entry = entries.get(key);
        return entry === undefined || entry.expiresAt <= this.#now
          ? -1
          : entry.expiresAt - this.#now;
      },
      delete: (key) => {
        entries.delete(key);
      },
    };
  }

  /** Number of keys held, expired ones not yet swept included. */
  get size(): number {
    return this.#entries.size;
  }

  /** Runs one call of `operation` as one synchronous step, on the next event-loop turn (see `#drain`). */
  run(operation: StoreOperation, call: StoreCall): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      this.#queued.push({ operation, call, resolve, reject });
      if (this.#queued.length === 1) setImmediate(this.#drain);
    });
  }

  /**
   * Runs the calls queued in this event-loop turn, each as one synchronous step. Answering on
   * the next turn rather than at once lets a server read every request that is ready before it
   * decides any (measured on Fastify: 32k -> 38-40k req/s), as the Redis store's batching does.
   */
  readonly #drain = (): void => {
    const queued = this.#queued;
    this.#queued = [];
    for (const { operation, call, resolve, reject } of queued) {
      try {
        this.#now = this.#clock();
        resolve(operation.memory(this.#state, call.keys, call.args, call.timestampMs ?? this.#now));
      } catch (error) {
        reject(error);
      }
    }
  };

  /** Drops every key. */
  clear(): void {
    this.#entries.clear();
  }

  #set(key: string, value: unknown, ttlMs: number): void {
    const entries = this.#entries;
    if (!(ttlMs > 0)) {
      this.#state.delete(key);
      return;
    }
    const expiresAt = this.#now + ttlMs;
    const known = entries.get(key);
    if (known !== undefined) {
      known.value = value;
      known.expiresAt = expiresAt;
      known.recent = true;
      return;
    }
    entries.set(key, { value, expiresAt, recent: false });
    this.#sweep();
  }

  /** Drops a few expired keys from the front, then evicts until the bound holds. */
  #sweep(): void {
    const entries = this.#entries;
    let swept = 0;
    for (const [key, entry] of entries) {
      if (entry.expiresAt <= this.#now) {
        entries.delete(key);
      } else if (entries.size > this.maxKeys) {
        entries.delete(key);
        if (entry.recent) {
          // Second chance: move it to the back with its bit cleared.
          entry.recent = false;
          entries.set(key, entry);
        } else {
          this.evicted++;
        }
      } else if (++swept >= SWEEP_PER_INSERT) {
        break;
      }
    }
  }
}
