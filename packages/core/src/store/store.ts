import { InvalidConfiguration } from '../errors.js';
import type { Operation } from './operation.js';

/**
 * The store contract. A store is only a connection: the engines own their semantics and give
 * every operation twice, as a Lua function and as the same step on the in-memory map, side by
 * side in the engine's folder (see `operation.ts`). A store runs one operation call atomically;
 * both stores get the reply the Lua function would give, and one decoder serves both.
 */

/** A reply as Redis gives it back from Lua: integers, strings, nil and nested arrays. */
export type Reply = number | string | null | Reply[];

/** The bounded, expiring map an operation's memory step reads and writes. */
export interface MemoryState {
  /** The live value at `key`, or undefined when absent or expired. */
  get<T>(key: string): T | undefined;
  /** Stores `value` at `key` for `ttlMs` (relative to the store's clock) and marks it recent. */
  set(key: string, value: unknown, ttlMs: number): void;
  /**
   * Milliseconds left before `key` expires, or -1 when absent; with `windowEndMs`, of the
   * fixed-window counter `key` of that window (see {@link MemoryState.usage}).
   */
  ttl(key: string, windowEndMs?: number): number;
  /** Removes `key`. */
  delete(key: string): void;
  /**
   * `used - refunded` of the fixed-window counter `key` in the window that ends at
   * `windowEndMs` (decision-time milliseconds), or 0 when it holds nothing. The counters of
   * one window share one expiry, so the store keeps them without an object per counter.
   */
  usage(key: string, windowEndMs: number): number;
  /**
   * Adds `n` to the used count of counter `key` in the window that ends at `windowEndMs`; a
   * counter it creates lives `ttlMs` (relative to the store's clock), as `SET PX` on Redis.
   */
  count(key: string, windowEndMs: number, n: number, ttlMs: number): void;
  /** Adds `n` to the refunded count of counter `key`, which then lives at least `ttlMs`. */
  refund(key: string, windowEndMs: number, n: number, ttlMs: number): void;
}

/**
 * A place where limiter state lives: {@link MemoryStore} or `RedisStore` from
 * `@sluice/core/redis`.
 */
export interface Store {
  /** Prefix of every key; engines put it first. */
  readonly prefix: string;
  /**
   * True when keys with different hash tags may live on different nodes (Redis Cluster): one
   * call must then keep to keys of one hash slot. False for a single Redis and for memory.
   */
  readonly clustered: boolean;
  /**
   * The clock that decides when a call passes no timestamp (ms since the epoch), for a store
   * whose clock runs in this process (memory); absent on Redis, whose `TIME` decides.
   */
  readonly clock?: () => number;
  /**
   * Runs one call of `operation` with `args` atomically, at `timestampMs` (ms since the epoch;
   * absent: the store's own clock, Redis `TIME` on Redis), and resolves to its decoded result;
   * rejects with `StoreUnavailableError` when the store fails, misses its deadline or answers
   * a reply of another shape.
   */
  run<A, R>(operation: Operation<A, R>, args: A, timestampMs?: number): Promise<R>;
  /**
   * Runs one call at once and returns its result, for a store that answers synchronously (the
   * memory store): engines call it when present to skip a promise and a turn per decision.
   */
  runNow?<A, R>(operation: Operation<A, R>, args: A, timestampMs?: number): R;
}

/**
 * A `store` option: throws {@link InvalidConfiguration} naming `option` unless `value` is a
 * {@link Store} (an object with `run`, `prefix` and `clustered`).
 *
 * @example
 * ```ts
 * this.store = storeOption('store', options.store);
 * ```
 */
export function storeOption(option: string, value: unknown): Store {
  const store = value as Partial<Store> | null;
  if (
    store === null ||
    typeof store !== 'object' ||
    typeof store.run !== 'function' ||
    typeof store.prefix !== 'string' ||
    typeof store.clustered !== 'boolean'
  ) {
    throw new InvalidConfiguration(option, value, 'a MemoryStore or RedisStore');
  }
  return store as Store;
}

/**
 * Throws {@link InvalidConfiguration} when an engine that takes only a store was given more
 * (an options object, say): a prefix passed there must not be silently ignored.
 *
 * @example
 * ```ts
 * constructor(store: Store, ...unexpected: never[]) { onlyAStore('SlidingWindowRateLimiter', unexpected); }
 * ```
 */
export function onlyAStore(engine: string, unexpected: readonly unknown[]): void {
  if (unexpected.length > 0) {
    throw new InvalidConfiguration(
      'options',
      unexpected[0],
      `nothing: ${engine} takes only a store (the store holds the prefix)`,
    );
  }
}
