import { InvalidConfiguration } from '../errors.js';
import { integerAtLeast, optionalBoolean, optionsObject, timerMs } from '../validate.js';
import { prefixOption } from './key-parts.js';
import { MAX_BATCH } from './redis-batcher.js';
import type { RedisStoreOptions } from './redis-store.js';
import type { ScriptClient } from './script-client.js';

/**
 * Default deadline of one store call, queueing and batching included.
 *
 * @example
 * ```ts
 * new RedisStore(redis, { timeoutMs: DEFAULT_TIMEOUT_MS / 2 });
 * ```
 */
export const DEFAULT_TIMEOUT_MS = 200;
/**
 * Default number of calls of one operation sent in one EVALSHA.
 *
 * @example
 * ```ts
 * new RedisStore(redis, { maxBatch: DEFAULT_MAX_BATCH * 2 });
 * ```
 */
export const DEFAULT_MAX_BATCH = MAX_BATCH;

/**
 * Whether, after a missed deadline, calls fail at once while one probes Redis (see
 * `RedisStoreOptions.failFast`).
 *
 * @example
 * ```ts
 * new RedisStore(redis, { failFast: !DEFAULT_FAIL_FAST }); // every call waits its deadline
 * ```
 */
export const DEFAULT_FAIL_FAST = true;

/** The options a `RedisStore` knows; any other is an error. */
const KNOWN: readonly (keyof RedisStoreOptions)[] = ['prefix', 'timeoutMs', 'maxBatch', 'failFast'];

/**
 * The options of a `RedisStore`, validated, with their defaults.
 *
 * @example
 * ```ts
 * const { timeoutMs } = resolveRedisStoreOptions(redis, {}); // 200
 * ```
 */
export interface ResolvedRedisStoreOptions {
  readonly client: ScriptClient;
  readonly prefix: string;
  readonly timeoutMs: number;
  readonly maxBatch: number;
  readonly failFast: boolean;
}

/**
 * Validates the client and options of a `RedisStore` once and resolves their defaults; throws
 * {@link InvalidConfiguration} naming the first bad one.
 *
 * @example
 * ```ts
 * resolveRedisStoreOptions(redis, { timeoutMs: 1e10 }); // throws: Node timers stop at 2^31 - 1 ms
 * ```
 */
export function resolveRedisStoreOptions(
  client: ScriptClient,
  options: RedisStoreOptions | undefined,
): ResolvedRedisStoreOptions {
  if (client === null || typeof client !== 'object' || typeof client.evalsha !== 'function') {
    throw new InvalidConfiguration(
      'client',
      client,
      'an ioredis Redis or Cluster client, or a node-redis one wrapped in `nodeRedisClient()`',
    );
  }
  const o = optionsObject('options', options, KNOWN);
  return {
    client,
    prefix: prefixOption('prefix', o.prefix),
    timeoutMs: timerMs('timeoutMs', o.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    maxBatch: integerAtLeast('maxBatch', o.maxBatch ?? DEFAULT_MAX_BATCH, 1),
    failFast: optionalBoolean('failFast', o.failFast) ?? DEFAULT_FAIL_FAST,
  };
}
