import { defineOperation } from '../store/operation.js';
import { readInteger } from '../store/reply-reader.js';
import { LEASE_SET_LUA, leasesAt, remove } from './lease-set.js';

/**
 * The arguments of {@link extendOperation}.
 *
 * @example
 * ```ts
 * const args: ExtendArgs = { key: setKey, id: lease.id, leaseMs: 60_000 };
 * ```
 */
export interface ExtendArgs {
  /** The lease set's key. */
  readonly key: string;
  /** The lease's id. */
  readonly id: string;
  /** The new lease length from now, in whole milliseconds. */
  readonly leaseMs: number;
}

/**
 * Renews a live lease for another lease length. A lease that expired is lost for good, even when
 * no one has reclaimed its slot yet: it is removed and the result is false.
 *
 * KEYS[1]: the lease set.
 * ARGV: lease length in ms (integer), the lease's id.
 * Reply: 1 when renewed, 0 when the lease was lost.
 *
 * @example
 * ```ts
 * const renewed = await store.run(extendOperation, { key: setKey, id: lease.id, leaseMs: 60_000 });
 * ```
 */
export const extendOperation = defineOperation<ExtendArgs, boolean>({
  name: 'sluice_concurrency_extend',
  encode({ key, id, leaseMs }, keys, argv) {
    keys.push(key);
    argv.push(leaseMs, id);
  },
  lua: `${LEASE_SET_LUA}
local key, lease_ms, id = keys[1], tonumber(argv[1]), argv[2]
local t = math.floor(now)
local expiry = redis.call('ZSCORE', key, id)
if not expiry then return 0 end
if tonumber(expiry) <= t then
  redis.call('ZREM', key, id)
  return 0
end
redis.call('ZADD', key, 'XX', t + lease_ms, id)
keep_until(key, lease_ms)
return 1`,
  memory(state, { key, id, leaseMs }, now) {
    const t = Math.floor(now);
    const leases = leasesAt(state, key);
    const expiry = leases.get(id);
    if (expiry === undefined) return 0;
    if (expiry <= t) {
      remove(state, key, id);
      return 0;
    }
    leases.set(id, t + leaseMs);
    state.set(key, leases, Math.max(state.ttl(key), leaseMs));
    return 1;
  },
  decode: (reply) => readInteger('sluice_concurrency_extend', reply) === 1,
});
