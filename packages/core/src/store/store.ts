import { InvalidConfiguration } from '../errors.js';

/**
 * The store contract. A store is only a connection: the engines own their semantics and give
 * every operation twice, as a Lua function and as the same step on the in-memory map, side by
 * side in the engine's folder. A store runs one operation call atomically and answers with the
 * reply the Lua function would give, so one decoder serves both stores.
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
 * One atomic operation of an engine.
 *
 * `lua` is the body of a Lua function `function(keys, argv, now)` returning the reply, where
 * `now` is the decision time in milliseconds (the call's timestamp, or Redis `TIME`).
 * `memory` is the same step on a {@link MemoryState}: it must return exactly what the Lua
 * function returns, integers truncated as Redis truncates them.
 */
export interface StoreOperation {
  /** Namespaced name, unique per operation, e.g. `sluice_quotas_decide`. */
  readonly name: string;
  /** Body of `function(keys, argv, now) ... end`. */
  readonly lua: string;
  /** The same step in memory. */
  readonly memory: (
    state: MemoryState,
    keys: readonly string[],
    args: readonly (string | number)[],
    now: number,
  ) => Reply;
}

/** One call of an operation. */
export interface StoreCall {
  /** Every key the call touches, or the base from which the operation derives them; all share one hash tag. */
  readonly keys: string[];
  /** Arguments, as the Lua function receives them in `argv`. */
  readonly args: (string | number)[];
  /** Decision time in ms since the epoch; absent: the store's own clock (Redis `TIME`). */
  readonly timestampMs?: number | undefined;
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
   * Runs one call of `operation` atomically and resolves to its reply; rejects with
   * `StoreUnavailableError` when the store fails or misses its deadline.
   */
  run(operation: StoreOperation, call: StoreCall): Promise<Reply>;
  /**
   * Runs one call at once and returns its reply, for a store that answers synchronously (the
   * memory store): engines call it when present to skip a promise and a turn per decision.
   */
  runNow?(operation: StoreOperation, call: StoreCall): Reply;
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
