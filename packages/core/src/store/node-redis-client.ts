import { InvalidConfiguration } from '../errors.js';
import type { ScriptClient } from './script-client.js';

/** The keys and arguments of one node-redis `eval`/`evalSha` call. */
export interface NodeRedisEvalOptions {
  keys: string[];
  arguments: string[];
}

/**
 * What sluice calls on a node-redis (`redis` v5) client or cluster: `createClient()` and
 * `createCluster()` results fit it as they are, so `@sluice/core` needs no types from `redis`.
 *
 * @example
 * ```ts
 * import { createClient } from 'redis';
 * const client: NodeRedisScripting = await createClient({ url }).connect();
 * ```
 */
export interface NodeRedisScripting {
  evalSha(sha: string, options: NodeRedisEvalOptions): Promise<unknown>;
  eval(source: string, options: NodeRedisEvalOptions): Promise<unknown>;
}

/**
 * Adapts a connected node-redis client (`createClient`) or cluster (`createCluster`) to the
 * surface `RedisStore` runs its scripts on. A cluster is recognised by its `getSlotMaster`
 * method; node-redis routes each script call by its first key, and every key of one sluice call
 * shares one hash tag. Arguments go over as strings, as ioredis sends them; replies (integers,
 * strings, nil, arrays in RESP2, node-redis's default) come back as ioredis gives them.
 *
 * Configure the client to fail fast while disconnected (`disableOfflineQueue: true`), as the
 * ioredis settings in `docs/reliability.md` do; `RedisStore`'s deadline bounds every call either way.
 *
 * @example
 * ```ts
 * import { createClient } from 'redis';
 * import { nodeRedisClient, RedisStore } from '@sluice/core/redis';
 *
 * const client = await createClient({ url: process.env.REDIS_URL, disableOfflineQueue: true })
 *   .on('error', () => {})
 *   .connect();
 * const store = new RedisStore(nodeRedisClient(client), { timeoutMs: 100 });
 * ```
 */
export function nodeRedisClient(client: NodeRedisScripting): ScriptClient {
  if (
    client === null ||
    typeof client !== 'object' ||
    typeof client.evalSha !== 'function' ||
    typeof client.eval !== 'function'
  ) {
    throw new InvalidConfiguration(
      'client',
      client,
      'a node-redis client or cluster (from `createClient()` or `createCluster()` of `redis` v5)',
    );
  }
  const options = (numberOfKeys: number, keysAndArgs: (string | number)[]) => {
    const strings = keysAndArgs.map(String);
    return { keys: strings.slice(0, numberOfKeys), arguments: strings.slice(numberOfKeys) };
  };
  return {
    isCluster: typeof (client as { getSlotMaster?: unknown }).getSlotMaster === 'function',
    evalsha: (sha, numberOfKeys, ...keysAndArgs) =>
      client.evalSha(sha, options(numberOfKeys, keysAndArgs)),
    eval: (source, numberOfKeys, ...keysAndArgs) =>
      client.eval(source, options(numberOfKeys, keysAndArgs)),
  };
}
