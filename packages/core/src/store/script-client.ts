import type { Cluster, Redis } from 'ioredis';

/**
 * The client surface `RedisStore` runs its scripts on, and all it calls: EVALSHA, EVAL, and
 * whether keys may live on different nodes. It is the part of ioredis's `Redis` and `Cluster`
 * that sluice uses, written out rather than taken with `Pick<Redis, 'evalsha' | 'eval'>`: the
 * picked methods carry ioredis's Buffer and callback overloads, which no other client
 * implements. ioredis's clients fit it as they are ({@link RedisClient} checks it), a node-redis
 * client or cluster through `nodeRedisClient` (`store/node-redis-client.ts`), a test double with
 * two functions.
 *
 * @example
 * ```ts
 * const client: ScriptClient = new Redis(process.env.REDIS_URL);
 * await client.evalsha(sha, 1, 'sluice:{1}:p', 5);
 * ```
 */
export interface ScriptClient {
  /** Runs a loaded script: `EVALSHA sha numberOfKeys key... arg...`. */
  evalsha(sha: string, numberOfKeys: number, ...keysAndArgs: (string | number)[]): Promise<unknown>;
  /** Runs (and loads) a script: `EVAL source numberOfKeys key... arg...`. */
  eval(source: string, numberOfKeys: number, ...keysAndArgs: (string | number)[]): Promise<unknown>;
  /** True on a Redis Cluster, where one script call must keep to the keys of one hash slot. */
  readonly isCluster?: boolean;
}

/** `T`, which must fit {@link ScriptClient}: a compile-time check. */
type Fits<T extends ScriptClient> = T;

/**
 * The ioredis clients: a single node (`Redis`) or a Redis Cluster. Each fits
 * {@link ScriptClient} as it is; `tsc` fails here the day one does not.
 *
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * const client: RedisClient = new Redis(process.env.REDIS_URL);
 * const store = new RedisStore(client);
 * ```
 */
export type RedisClient = Fits<Redis> | Fits<Cluster>;
