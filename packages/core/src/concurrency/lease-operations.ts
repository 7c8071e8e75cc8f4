import { defineOperation } from '../store/operation.js';
import { readInteger } from '../store/reply-reader.js';
import { countLive } from './lease-set.js';

/**
 * The read and reset steps of the concurrency limiter (acquire, release and extend have a file
 * each: `lease-acquire.ts`, `lease-release.ts`, `lease-extend.ts`), each as a Lua function and
 * as the same step in memory, over the {@link LeaseSet} of one key. Times come from the store's clock (`now`), never
 * from the caller, so holders on skewed machines agree on who expired.
 */

/**
 * The arguments of an operation on one lease set.
 *
 * @example
 * ```ts
 * const args: LeaseSetArgs = { key: 'sluice:c:{snuba}' };
 * ```
 */
export interface LeaseSetArgs {
  /** The lease set's key. */
  readonly key: string;
}

/**
 * Counts the live leases, changing nothing.
 *
 * KEYS[1]: the lease set.
 * Reply: the number of leases with `now < expiry`.
 *
 * @example
 * ```ts
 * const live = await store.run(countOperation, { key: setKey }); // number
 * ```
 */
export const countOperation = defineOperation<LeaseSetArgs, number>({
  name: 'sluice_concurrency_count',
  encode: ({ key }, keys) => {
    keys.push(key);
  },
  lua: `return redis.call('ZCOUNT', keys[1], '(' .. math.floor(now), '+inf')`,
  memory: (state, { key }, now) => countLive(state, key, Math.floor(now)),
  decode: (reply) => readInteger('sluice_concurrency_count', reply),
});

/**
 * Drops every lease of the key: their holders' `extend()` then returns false.
 *
 * KEYS[1]: the lease set.
 * Reply: the number of live leases dropped.
 *
 * @example
 * ```ts
 * const dropped = await store.run(resetOperation, { key: setKey }); // number
 * ```
 */
export const resetOperation = defineOperation<LeaseSetArgs, number>({
  name: 'sluice_concurrency_reset',
  encode: ({ key }, keys) => {
    keys.push(key);
  },
  lua: `local live = redis.call('ZCOUNT', keys[1], '(' .. math.floor(now), '+inf')
redis.call('DEL', keys[1])
return live`,
  memory(state, { key }, now) {
    const live = countLive(state, key, Math.floor(now));
    state.delete(key);
    return live;
  },
  decode: (reply) => readInteger('sluice_concurrency_reset', reply),
});
