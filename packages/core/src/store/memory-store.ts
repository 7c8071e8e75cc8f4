import { publishStoreCall, storeChannel } from '../metrics/store-channel.js';
import { CounterWindows } from './counter-window.js';
import { ExpiringEntries } from './expiring-entries.js';
import { resolveMemoryStoreOptions } from './memory-store-options.js';
import type { Operation } from './operation.js';
import type { MemoryState, Store } from './store.js';

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /**
   * Most keys held at once. A live key is evicted only when more than this many are live
   * (expired ones go first), which resets that counter: watch {@link MemoryStore.evicted}.
   * @default 1_000_000
   */
  maxKeys?: number;
  /** Milliseconds since the epoch; inject one to control time in tests. @default Date.now */
  clock?: () => number;
  /** Prefix of every key: non-empty, without `{` or `}`. @default 'sluice' */
  prefix?: string;
}

/** Milliseconds between two expiry passes while the store holds anything. */
const SWEEP_INTERVAL_MS = 1000;
/** Per-key entries looked at in one slice of a sweep, so no slice holds the loop for long. */
const SWEEP_SLICE = 5000;

/**
 * The embedded default store: a bounded map with a clock, in this process only. Each operation
 * runs as one synchronous step, so it is atomic within the process, and is answered at once.
 *
 * Fixed-window counters live in one `Map<string, number>` per window end ({@link
 * CounterWindows}): they share one expiry, so expiry drops the window whole and a counter
 * costs its key and one map slot. Sliding windows and lease sets keep one entry per key with
 * its own expiry. An unref'd timer, reading the store's own clock, drops expired windows every
 * {@link SWEEP_INTERVAL_MS} and walks the per-key entries in slices of {@link SWEEP_SLICE}, so
 * memory comes back with no traffic and no step blocks the event loop for long.
 *
 * When more than `maxKeys` keys are live, expired state goes first; then the counter or entry
 * that expires soonest, the least recently written of its window (CLOCK, the usual
 * approximation of least-recently-used that costs no reordering per write). Every eviction of
 * a live key is counted in {@link MemoryStore.evicted}.
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

  readonly #counters = new CounterWindows();
  readonly #entries = new ExpiringEntries();
  /**
   * The store's clock (milliseconds since the epoch): what decides and expires here, and what
   * anything remembering this store's answers (the HTTP rejection cache) must read too.
   */
  readonly clock: () => number;
  readonly #clock: () => number;
  /** The store clock's reading for the step under way. */
  #now = 0;
  readonly #state: MemoryState;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #sweeping = false;

  constructor(options?: MemoryStoreOptions) {
    const resolved = resolveMemoryStoreOptions(options);
    this.maxKeys = resolved.maxKeys;
    this.#clock = resolved.clock;
    this.clock = resolved.clock;
    this.prefix = resolved.prefix;
    const entries = this.#entries;
    const counters = this.#counters;
    this.#state = {
      get: <T>(key: string) => entries.get(key, this.#now) as T | undefined,
      set: (key, value, ttlMs) => {
        if (!(ttlMs > 0)) entries.delete(key);
        else this.#added(entries.set(key, value, this.#now + ttlMs));
      },
      ttl: (key, windowEndMs) => {
        if (windowEndMs === undefined) return entries.ttl(key, this.#now);
        const window = counters.find(windowEndMs, this.#now);
        return window?.has(key) ? window.expiresAt - this.#now : -1;
      },
      delete: (key) => entries.delete(key),
      usage: (key, windowEndMs) => counters.find(windowEndMs, this.#now)?.usage(key) ?? 0,
      count: (key, windowEndMs, n, ttlMs) => {
        const window = counters.open(windowEndMs, this.#now, this.#now + ttlMs);
        const created = window.count(key, n);
        counters.size += created;
        this.#added(created);
      },
      refund: (key, windowEndMs, n, ttlMs) => {
        const window = counters.open(windowEndMs, this.#now, this.#now + ttlMs);
        const created = window.refund(key, n);
        counters.size += created;
        this.#added(created);
      },
    };
  }

  /** Number of keys held, expired ones not yet swept included. */
  get size(): number {
    return this.#counters.size + this.#entries.size;
  }

  /** Runs one call of `operation` as one synchronous step and resolves to its result at once. */
  run<A, R>(operation: Operation<A, R>, args: A, timestampMs?: number): Promise<R> {
    try {
      return Promise.resolve(this.runNow(operation, args, timestampMs));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Runs one call of `operation` as one synchronous step and returns its result.
   *
   * @example
   * ```ts
   * const live = store.runNow(countOperation, { key: 'sluice:c:{snuba}' });
   * ```
   */
  runNow<A, R>(operation: Operation<A, R>, args: A, timestampMs?: number): R {
    if (storeChannel.hasSubscribers) return this.#timedStep(operation, args, timestampMs);
    return this.#step(operation, args, timestampMs);
  }

  /** One step of `operation` on the map, at `timestampMs` or the store's clock. */
  #step<A, R>(operation: Operation<A, R>, args: A, timestampMs: number | undefined): R {
    const now = this.#clock();
    this.#now = now;
    return operation.decode(operation.memory(this.#state, args, timestampMs ?? now), args);
  }

  /** {@link MemoryStore.runNow} timed and published on `sluice:store`, for its subscribers. */
  #timedStep<A, R>(operation: Operation<A, R>, args: A, timestampMs: number | undefined): R {
    const startedAt = performance.now();
    let result: R;
    try {
      result = this.#step(operation, args, timestampMs);
    } catch (error) {
      publishStoreCall('memory', operation.name, startedAt, error);
      throw error;
    }
    publishStoreCall('memory', operation.name, startedAt, undefined);
    return result;
  }

  /** Drops every key. */
  clear(): void {
    this.#counters.clear();
    this.#entries.clear();
  }

  /** Books `created` new keys: arms the expiry timer and keeps the bound. */
  #added(created: number): void {
    if (created === 0) return;
    if (this.#timer === undefined) this.#arm();
    if (this.size > this.maxKeys) this.#makeRoom();
  }

  /**
   * Brings the store back within `maxKeys`: expired windows first, then one slice of expired
   * per-key entries, and only then live keys, the soonest to expire first.
   */
  #makeRoom(): void {
    const now = this.#now;
    this.#counters.expire(now);
    if (this.size > this.maxKeys && this.#entries.mayHoldExpired(now)) {
      this.#entries.sweep(now, SWEEP_SLICE);
    }
    while (this.size > this.maxKeys) {
      const window = this.#counters.soonest();
      const entryExpiry = this.#entries.nextVictimExpiry();
      const dropped =
        window !== undefined && (entryExpiry === undefined || window.expiresAt <= entryExpiry)
          ? this.#counters.evictFrom(window)
          : this.#entries.evictOne();
      if (dropped === 0) break;
      this.evicted += dropped;
    }
  }

  #arm(): void {
    this.#timer = setTimeout(this.#tick, SWEEP_INTERVAL_MS);
    this.#timer.unref();
  }

  /** The expiry pass: drops expired windows, then sweeps per-key entries slice by slice. */
  readonly #tick = (): void => {
    this.#timer = undefined;
    this.#counters.expire(this.#clock());
    if (!this.#sweeping && this.#entries.mayHoldExpired(this.#clock())) {
      this.#sweeping = true;
      this.#sweepSlice();
    }
    if (this.size > 0) this.#arm();
  };

  readonly #sweepSlice = (): void => {
    if (this.#entries.sweep(this.#clock(), SWEEP_SLICE)) {
      this.#sweeping = false;
      return;
    }
    setImmediate(this.#sweepSlice).unref();
  };
}
