import type { MemoryState } from '../store/store.js';

/**
 * The leases of one key. On Redis a sorted set, member = lease id, score = the instant the lease
 * expires in whole milliseconds of the store's clock (Redis `TIME`); in memory the same thing as a
 * map. A lease is live while `now < expiry`. The key's TTL is never shorter than the latest
 * expiry it holds, so a key whose holders all vanished disappears by itself.
 *
 * Every step works on `t = floor(now)`, so scores are integers and Lua and memory agree to the
 * millisecond.
 */
export type LeaseSet = Map<string, number>;

/**
 * Lua shared by the steps: `reclaim(key, t)` drops expired leases and returns how many;
 * `keep_until(key, lease_ms)` makes the key outlive a lease that expires `lease_ms` from now.
 */
export const LEASE_SET_LUA = `
local function reclaim(key, t)
  return redis.call('ZREMRANGEBYSCORE', key, '-inf', t)
end
local function keep_until(key, lease_ms)
  if redis.call('PTTL', key) < lease_ms then redis.call('PEXPIRE', key, lease_ms) end
end`;

/** The leases at `key`, or an empty set (not yet stored) when there are none. */
export function leasesAt(state: MemoryState, key: string): LeaseSet {
  return state.get<LeaseSet>(key) ?? new Map();
}

/** Drops the expired leases (in place) and returns how many there were, as `reclaim` does. */
export function reclaim(state: MemoryState, key: string, leases: LeaseSet, t: number): number {
  let reclaimed = 0;
  for (const [id, expiry] of leases) {
    if (expiry <= t) {
      leases.delete(id);
      reclaimed++;
    }
  }
  // Redis deletes a sorted set whose last member goes.
  if (reclaimed > 0 && leases.size === 0) state.delete(key);
  return reclaimed;
}

/** Stores `leases` at `key` with a TTL of at least `leaseMs`, as `keep_until` does. */
export function keepUntil(
  state: MemoryState,
  key: string,
  leases: LeaseSet,
  leaseMs: number,
): void {
  const ttl = state.ttl(key);
  state.set(key, leases, Math.max(ttl, leaseMs));
}

/** Milliseconds until the earliest lease expires (0 when there is none). */
export function earliestExpiryIn(leases: LeaseSet, t: number): number {
  let earliest = Number.POSITIVE_INFINITY;
  for (const expiry of leases.values()) if (expiry < earliest) earliest = expiry;
  return earliest === Number.POSITIVE_INFINITY ? 0 : earliest - t;
}
