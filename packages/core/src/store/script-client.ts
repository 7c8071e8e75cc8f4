/**
 * The client surface `RedisStore` runs its scripts on: EVALSHA, EVAL, and whether keys may live
 * on different nodes. ioredis's `Redis` and `Cluster` fit it as they are; a node-redis client or
 * cluster fits it through {@link nodeRedisClient} (`store/node-redis-client.ts`).
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
