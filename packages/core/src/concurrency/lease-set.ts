import type { MemoryState } from '../store/store.js';

/**
 * The leases of one key. On Redis a sorted set, member = lease id, score = the instant the lease
 * expires in whole milliseconds of the store's clock (Redis `TIME`); in memory the same thing as a
 * map. A lease is live while `now < expiry`. The key's TTL is never shorter than the latest
 * expiry it holds, so a key whose holders all vanished disappears by itself.
 *
 * Every step works on `t = floor(now)`, so scores are integers and Lua and memory agree to the
 * millisecond.
 *
 * @example
 * ```ts
 * const leases: LeaseSet = new Map([['3f2c...', 1_700_000_060_000]]);
 * ```
 */
export type LeaseSet = Map<string, number>;

/**
 * Lua shared by the steps. `keep_until(key, lease_ms)` makes a key that already has a TTL outlive
 * a lease that expires `lease_ms` from now (one `PEXPIRE ... GT` from Redis 7.0, `PTTL` and
 * `PEXPIRE` before). `admit(key, t, limit, lease_ms, id)` reclaims expired leases and, when fewer
 * than `limit` remain, adds lease `id` until `t + lease_ms`; it returns `{ admitted (1|0), live
 * leases after, leases reclaimed, ms until the earliest lease expires (0 when admitted) }`.
 *
 * @example
 * ```ts
 * const lua = `${LEASE_SET_LUA}\nreturn admit(keys[1], math.floor(now), 5, 60000, argv[1])`;
 * ```
 */
export const LEASE_SET_LUA = `
local function keep_until(key, lease_ms)
  if (redis.REDIS_VERSION_NUM or 0) >= 0x070000 then
    redis.call('PEXPIRE', key, lease_ms, 'GT')
  elseif redis.call('PTTL', key) < lease_ms then
    redis.call('PEXPIRE', key, lease_ms)
  end
end
local function admit(key, t, limit, lease_ms, id)
  local reclaimed = redis.call('ZREMRANGEBYSCORE', key, '-inf', t)
  local held = redis.call('ZCARD', key)
  if held >= limit then
    local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    return { 0, held, reclaimed, tonumber(first[2]) - t }
  end
  redis.call('ZADD', key, t + lease_ms, id)
  -- An empty set was no key at all: it has no TTL yet to keep.
  if held == 0 then redis.call('PEXPIRE', key, lease_ms) else keep_until(key, lease_ms) end
  return { 1, held + 1, reclaimed, 0 }
end`;

/**
 * The leases at `key`, or an empty set (not yet stored) when there are none.
 *
 * @example
 * ```ts
 * const leases = leasesAt(state, setKey); // empty Map when absent
 * ```
 */
export function leasesAt(state: MemoryState, key: string): LeaseSet {
  return state.get<LeaseSet>(key) ?? new Map();
}

/**
 * A lease to admit: at most `limit` live leases, this one `id` for `leaseMs`.
 *
 * @example
 * ```ts
 * const grant: LeaseGrant = { limit: 5, leaseMs: 60_000, id: randomUUID() };
 * ```
 */
export interface LeaseGrant {
  /** Most leases live at once. */
  readonly limit: number;
  /** Lease length in whole milliseconds. */
  readonly leaseMs: number;
  /** The new lease's id. */
  readonly id: string;
}

/**
 * `admit` in memory at `t = floor(now)`: the same step, the same reply.
 *
 * @example
 * ```ts
 * const [admitted] = admit(state, setKey, Math.floor(now), { limit: 5, leaseMs: 60_000, id });
 * ```
 */
export function admit(state: MemoryState, key: string, t: number, grant: LeaseGrant): number[] {
  const { limit, leaseMs } = grant;
  const leases = leasesAt(state, key);
  let reclaimed = 0;
  for (const [id, expiry] of leases) {
    if (expiry <= t) {
      leases.delete(id);
      reclaimed++;
    }
  }
  // Redis deletes a sorted set whose last member goes.
  if (reclaimed > 0 && leases.size === 0) state.delete(key);
  if (leases.size >= limit) {
    let earliest = Number.POSITIVE_INFINITY;
    for (const expiry of leases.values()) if (expiry < earliest) earliest = expiry;
    return [0, leases.size, reclaimed, earliest - t];
  }
  leases.set(grant.id, t + leaseMs);
  const ttl = state.ttl(key);
  state.set(key, leases, Math.max(ttl, leaseMs));
  return [1, leases.size, reclaimed, 0];
}

/**
 * Removes lease `id`, as `ZREM` does; returns its expiry, or undefined when it was not there.
 *
 * @example
 * ```ts
 * const expiry = remove(state, setKey, lease.id); // undefined when not held
 * ```
 */
export function remove(state: MemoryState, key: string, id: string): number | undefined {
  const leases = state.get<LeaseSet>(key);
  const expiry = leases?.get(id);
  if (leases === undefined || expiry === undefined) return undefined;
  leases.delete(id);
  if (leases.size === 0) state.delete(key);
  return expiry;
}

/**
 * The number of live leases (`t < expiry`), as `ZCOUNT key (t +inf`.
 *
 * @example
 * ```ts
 * const live = countLive(state, setKey, Math.floor(now));
 * ```
 */
export function countLive(state: MemoryState, key: string, t: number): number {
  let live = 0;
  for (const expiry of leasesAt(state, key).values()) if (expiry > t) live++;
  return live;
}
