import { storeChannel, timedStoreCall } from '../metrics/store-channel.js';
import { type MemoryPolicy, readMemoryPolicy, warnIfEvicting } from './eviction-policy.js';
import type { Operation } from './operation.js';
import { RedisBatcher } from './redis-batcher.js';
import { resolveRedisStoreOptions } from './redis-store-options.js';
import type { RedisClient, ScriptClient } from './script-client.js';
import type { Store } from './store.js';

export { DEFAULT_MAX_BATCH, DEFAULT_TIMEOUT_MS } from './redis-store-options.js';

export type { RedisClient };

/** Options of {@link RedisStore}. */
export interface RedisStoreOptions {
  /** Prefix of every key: non-empty, without `{` or `}` (`:` is fine). @default 'sluice' */
  prefix?: string;
  /**
   * Deadline of one call in milliseconds, covering queueing, batching and the round trip; past
   * it the call rejects with `StoreUnavailableError` and the caller's failure policy applies.
   * At most 2^31 - 1 (Node's longest timer).
   * @default 200
   */
  timeoutMs?: number;
  /**
   * Most calls in one EVALSHA. A call made while nothing is in flight goes out at once; under
   * load calls are flushed on `setImmediate`, per operation (and hash slot on a Cluster), in
   * batches of about a quarter of the calls queued and in flight, at most this many.
   * @default 16
   */
  maxBatch?: number;
  /**
   * Once a call has missed its deadline, Redis is suspect: one call at a time goes through as a
   * probe and every other call fails at once (the caller's policy applies) instead of waiting
   * out the deadline and piling commands onto a hung server; the first answer ends it. On a
   * Cluster each hash slot is probed on its own. `false` makes every call wait its deadline.
   * @default true
   */
  failFast?: boolean;
}

/**
 * A store on Redis through ioredis (`Redis` or `Cluster`). Every operation is one Lua script
 * run by EVALSHA, never inside MULTI, reloaded when Redis answers NOSCRIPT; a lone call goes out
 * at once, and under load calls are batched, several batches sharing the round trip (see
 * `RedisBatcher`). Every call is bounded by `timeoutMs`, so a hung or dead Redis costs at most that.
 *
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * import { RedisStore } from '@sluice/core/redis';
 * const store = new RedisStore(new Redis(process.env.REDIS_URL), { timeoutMs: 100 });
 * ```
 */
export class RedisStore implements Store {
  /** Prefix of every key. */
  readonly prefix: string;
  /** Deadline of one call in milliseconds. */
  readonly timeoutMs: number;
  /** Most calls in one EVALSHA. */
  readonly maxBatch: number;
  /** The client: ioredis's, or node-redis's through `nodeRedisClient`. */
  readonly client: ScriptClient;
  /** True on a Redis Cluster: one call keeps to the keys of one hash slot. */
  readonly clustered: boolean;
  /**
   * Redis's `maxmemory` and `maxmemory-policy`, read once in the background when the store is
   * made (`INFO memory`, at most 2 s, never delaying a decision); undefined when Redis did not
   * tell in time. A policy that can evict sluice's keys emits the process warning
   * `SLUICE_EVICTING_REDIS` once per client (see `docs/redis.md`).
   */
  readonly memoryPolicy: Promise<MemoryPolicy | undefined>;

  readonly #batcher: RedisBatcher;

  /**
   * @param client - an ioredis `Redis` or `Cluster` ({@link RedisClient}), or any client with
   *   the {@link ScriptClient} surface (node-redis through `nodeRedisClient`).
   */
  constructor(client: ScriptClient, options?: RedisStoreOptions) {
    const resolved = resolveRedisStoreOptions(client, options);
    this.client = resolved.client;
    this.prefix = resolved.prefix;
    this.timeoutMs = resolved.timeoutMs;
    this.maxBatch = resolved.maxBatch;
    this.clustered = resolved.client.isCluster === true;
    this.#batcher = new RedisBatcher(resolved.client, {
      timeoutMs: resolved.timeoutMs,
      maxBatch: resolved.maxBatch,
      failFast: resolved.failFast,
      clustered: this.clustered,
    });
    this.memoryPolicy = readMemoryPolicy(resolved.client).then((policy) => {
      warnIfEvicting(resolved.client, policy);
      return policy;
    });
  }

  /**
   * Runs one call of `operation` in a batch of that operation (see {@link RedisBatcher}); with
   * a subscriber on `sluice:store`, the call is timed and published when it settles.
   */
  run<A, R>(operation: Operation<A, R>, args: A, timestampMs?: number): Promise<R> {
    if (!storeChannel.hasSubscribers) return this.#batcher.run(operation, args, timestampMs);
    return timedStoreCall('redis', operation.name, () =>
      this.#batcher.run(operation, args, timestampMs),
    );
  }
}
