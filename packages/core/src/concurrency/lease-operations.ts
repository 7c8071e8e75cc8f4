import type { StoreOperation } from '../store/store.js';
import { earliestExpiryIn, keepUntil, LEASE_SET_LUA, leasesAt, reclaim } from './lease-set.js';

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
 */
export const acquireOperation: StoreOperation = {
  name: 'sluice_concurrency_acquire',
  lua: `${LEASE_SET_LUA}
local key, limit, lease_ms, id = keys[1], tonumber(argv[1]), tonumber(argv[2]), argv[3]
local t = math.floor(now)
local reclaimed = reclaim(key, t)
local held = redis.call('ZCARD', key)
if held < limit then
  redis.call('ZADD', key, t + lease_ms, id)
  keep_until(key, lease_ms)
  return { 1, held + 1, reclaimed, 0 }
end
local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
return { 0, held, reclaimed, tonumber(first[2]) - t }`,
  memory(state, keys, args, now) {
    const key = keys[0]!;
    const limit = args[0] as number;
    const leaseMs = args[1] as number;
    const t = Math.floor(now);
    const leases = leasesAt(state, key);
    const reclaimed = reclaim(state, key, leases, t);
    if (leases.size < limit) {
      leases.set(String(args[2]), t + leaseMs);
      keepUntil(state, key, leases, leaseMs);
      return [1, leases.size, reclaimed, 0];
    }
    return [0, leases.size, reclaimed, earliestExpiryIn(leases, t)];
  },
};

/**
 * Gives a lease back by id; another holder's lease is never touched. Also reclaims expired leases.
 *
 * KEYS[1]: the lease set.
 * ARGV: the lease's id.
 * Reply: `{ 1 when the lease was still live (0: already expired, reclaimed or reset), live leases
 * after the step, leases reclaimed }`.
 */
export const releaseOperation: StoreOperation = {
  name: 'sluice_concurrency_release',
  lua: `${LEASE_SET_LUA}
local key, id = keys[1], argv[1]
local t = math.floor(now)
local expiry = redis.call('ZSCORE', key, id)
local live = 0
if expiry then
  if tonumber(expiry) > t then live = 1 end
  redis.call('ZREM', key, id)
end
local reclaimed = reclaim(key, t)
return { live, redis.call('ZCARD', key), reclaimed }`,
  memory(state, keys, args, now) {
    const key = keys[0]!;
    const id = String(args[0]);
    const t = Math.floor(now);
    const leases = leasesAt(state, key);
    const expiry = leases.get(id);
    let live = 0;
    if (expiry !== undefined) {
      if (expiry > t) live = 1;
      leases.delete(id);
      if (leases.size === 0) state.delete(key);
    }
    const reclaimed = reclaim(state, key, leases, t);
    return [live, leases.size, reclaimed];
  },
};

/**
 * Renews a live lease for another lease length. A lease that expired is lost for good, even when
 * no one has reclaimed its slot yet: it is removed and the reply is 0.
 *
 * KEYS[1]: the lease set.
 * ARGV: lease length in ms (integer), the lease's id.
 * Reply: 1 when renewed, 0 when the lease was lost.
 */
export const extendOperation: StoreOperation = {
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
    const leases = state.get<Map<string, number>>(key);
    const expiry = leases?.get(id);
    if (leases === undefined || expiry === undefined) return 0;
    if (expiry <= t) {
      leases.delete(id);
      if (leases.size === 0) state.delete(key);
      return 0;
    }
    leases.set(id, t + leaseMs);
    keepUntil(state, key, leases, leaseMs);
    return 1;
  },
};

/**
 * Counts the live leases, changing nothing.
 *
 * KEYS[1]: the lease set.
 * Reply: the number of leases with `now < expiry`.
 */
export const countOperation: StoreOperation = {
  name: 'sluice_concurrency_count',
  lua: `return redis.call('ZCOUNT', keys[1], '(' .. math.floor(now), '+inf')`,
  memory(state, keys, _args, now) {
    const t = Math.floor(now);
    let live = 0;
    for (const expiry of leasesAt(state, keys[0]!).values()) if (expiry > t) live++;
    return live;
  },
};

/**
 * Drops every lease of the key: their holders' `extend()` then returns false.
 *
 * KEYS[1]: the lease set.
 * Reply: the number of live leases dropped.
 */
export const resetOperation: StoreOperation = {
  name: 'sluice_concurrency_reset',
  lua: `local live = redis.call('ZCOUNT', keys[1], '(' .. math.floor(now), '+inf')
redis.call('DEL', keys[1])
return live`,
  memory(state, keys, args, now) {
    const live = countOperation.memory(state, keys, args, now) as number;
    state.delete(keys[0]!);
    return live;
  },
};
