import { defineOperation, positionalOperation } from '../store/operation.js';
import { readInteger } from '../store/reply-reader.js';
import { admit, countLive, LEASE_SET_LUA, leasesAt, remove } from './lease-set.js';

/**
 * The atomic steps of the concurrency limiter, each as a Lua function and as the same step in
 * memory, over the {@link LeaseSet} of one key. Times come from the store's clock (`now`), never
 * from the caller, so holders on skewed machines agree on who expired.
 */

/**
 * Takes a slot when fewer than `limit` leases are live, reclaiming expired ones first.
 *
 * KEYS[1]: the lease set.
 * ARGV: limit, lease length in ms (integer), the new lease's id.
 * Reply: `{ acquired (1|0), live leases after the step, leases reclaimed, ms until the earliest
 * lease expires (0 when acquired) }`.
 *
 * @example
 * ```ts
 * const [acquired, inFlight] = (await store.run(acquireOperation, { keys: [setKey], args: [5, 60_000, randomUUID()] })) as number[];
 * ```
 */
export const acquireOperation = positionalOperation({
  name: 'sluice_concurrency_acquire',
  lua: `${LEASE_SET_LUA}
return admit(keys[1], math.floor(now), tonumber(argv[1]), tonumber(argv[2]), argv[3])`,
  memory(state, keys, args, now) {
    const grant = { t: Math.floor(now), limit: args[0] as number, leaseMs: args[1] as number };
    return admit(state, keys[0]!, { ...grant, id: String(args[2]) });
  },
});

/**
 * Gives a lease back by id; another holder's lease is never touched. With a successor, the same
 * step then admits the successor's lease as acquire would (a hand-over to a waiter of this
 * process, one round trip instead of two, and no race for the freed slot).
 *
 * KEYS[1]: the lease set.
 * ARGV: the lease's id; optionally the successor's limit, lease length in ms and lease id.
 * Reply: `{ 1 when the lease was still live (0: already expired, reclaimed or reset), live leases
 * after the step, 1 when the successor was admitted, leases reclaimed }`.
 *
 * @example
 * ```ts
 * await store.run(releaseOperation, { keys: [setKey], args: [lease.id] });
 * ```
 */
export const releaseOperation = positionalOperation({
  name: 'sluice_concurrency_release',
  lua: `${LEASE_SET_LUA}
local key, t = keys[1], math.floor(now)
local expiry = redis.call('ZSCORE', key, argv[1])
local live = 0
if expiry then
  if tonumber(expiry) > t then live = 1 end
  redis.call('ZREM', key, argv[1])
end
if argv[2] then
  local granted = admit(key, t, tonumber(argv[2]), tonumber(argv[3]), argv[4])
  return { live, granted[2], granted[1], granted[3] }
end
return { live, redis.call('ZCOUNT', key, '(' .. t, '+inf'), 0, 0 }`,
  memory(state, keys, args, now) {
    const key = keys[0]!;
    const t = Math.floor(now);
    const expiry = remove(state, key, String(args[0]));
    const live = expiry !== undefined && expiry > t ? 1 : 0;
    if (args.length > 1) {
      const grant = {
        t,
        limit: args[1] as number,
        leaseMs: args[2] as number,
        id: String(args[3]),
      };
      const granted = admit(state, key, grant);
      return [live, granted[1]!, granted[0]!, granted[2]!];
    }
    return [live, countLive(state, key, t), 0, 0];
  },
});

/**
 * Renews a live lease for another lease length. A lease that expired is lost for good, even when
 * no one has reclaimed its slot yet: it is removed and the reply is 0.
 *
 * KEYS[1]: the lease set.
 * ARGV: lease length in ms (integer), the lease's id.
 * Reply: 1 when renewed, 0 when the lease was lost.
 *
 * @example
 * ```ts
 * const renewed = (await store.run(extendOperation, { keys: [setKey], args: [60_000, lease.id] })) === 1;
 * ```
 */
export const extendOperation = positionalOperation({
  name: 'sluice_concurrency_extend',
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
  memory(state, keys, args, now) {
    const key = keys[0]!;
    const leaseMs = args[0] as number;
    const id = String(args[1]);
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
});

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
