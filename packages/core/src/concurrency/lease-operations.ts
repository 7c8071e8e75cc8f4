import { defineOperation } from '../store/operation.js';
import { readInteger, readIntegers } from '../store/reply-reader.js';
import type { Reply } from '../store/store.js';
import { admit, countLive, LEASE_SET_LUA, type LeaseGrant, leasesAt, remove } from './lease-set.js';

/**
 * The atomic steps of the concurrency limiter, each as a Lua function and as the same step in
 * memory, over the {@link LeaseSet} of one key. Times come from the store's clock (`now`), never
 * from the caller, so holders on skewed machines agree on who expired.
 */

/**
 * The arguments of {@link acquireOperation}: the lease set and the lease to admit.
 *
 * @example
 * ```ts
 * const args: AcquireArgs = { key: setKey, limit: 5, leaseMs: 60_000, id: randomUUID() };
 * ```
 */
export interface AcquireArgs extends LeaseGrant {
  /** The lease set's key. */
  readonly key: string;
}

/**
 * What {@link acquireOperation} did.
 *
 * @example
 * ```ts
 * const { acquired, live, expiresInMs } = await store.run(acquireOperation, args);
 * ```
 */
export interface Admission {
  /** True when the lease was added. */
  readonly acquired: boolean;
  /** Live leases after the step. */
  readonly live: number;
  /** Expired leases the step removed. */
  readonly reclaimed: number;
  /** Milliseconds until the earliest lease expires; 0 when acquired. */
  readonly expiresInMs: number;
}

/** An `admit` reply (see `LEASE_SET_LUA`) as an {@link Admission}. */
function admission(operation: string, reply: Reply): Admission {
  const [acquired, live, reclaimed, expiresInMs] = readIntegers(operation, reply, 4);
  return {
    acquired: acquired === 1,
    live: live!,
    reclaimed: reclaimed!,
    expiresInMs: expiresInMs!,
  };
}

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
 * const { acquired, live } = await store.run(acquireOperation, { key: setKey, limit: 5, leaseMs: 60_000, id: randomUUID() });
 * ```
 */
export const acquireOperation = defineOperation<AcquireArgs, Admission>({
  name: 'sluice_concurrency_acquire',
  encode({ key, limit, leaseMs, id }, keys, argv) {
    keys.push(key);
    argv.push(limit, leaseMs, id);
  },
  lua: `${LEASE_SET_LUA}
return admit(keys[1], math.floor(now), tonumber(argv[1]), tonumber(argv[2]), argv[3])`,
  memory: (state, args, now) => admit(state, args.key, Math.floor(now), args),
  decode: (reply) => admission('sluice_concurrency_acquire', reply),
});

/**
 * The arguments of {@link releaseOperation}.
 *
 * @example
 * ```ts
 * const args: ReleaseArgs = { key: setKey, id: lease.id, successor: { limit: 5, leaseMs: 60_000, id } };
 * ```
 */
export interface ReleaseArgs {
  /** The lease set's key. */
  readonly key: string;
  /** The id of the lease given back. */
  readonly id: string;
  /** A lease to admit in the same step, as acquire would (a hand-over to a waiter). */
  readonly successor?: LeaseGrant | undefined;
}

/**
 * What {@link releaseOperation} did.
 *
 * @example
 * ```ts
 * const { wasLive, handedOver } = await store.run(releaseOperation, { key: setKey, id: lease.id });
 * ```
 */
export interface Release {
  /** True when the lease was still live (false: already expired, reclaimed or reset). */
  readonly wasLive: boolean;
  /** Live leases after the step (the successor's included). */
  readonly live: number;
  /** True when the successor was admitted. */
  readonly handedOver: boolean;
  /** Expired leases the successor's admission removed. */
  readonly reclaimed: number;
}

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
 * await store.run(releaseOperation, { key: setKey, id: lease.id });
 * ```
 */
export const releaseOperation = defineOperation<ReleaseArgs, Release>({
  name: 'sluice_concurrency_release',
  encode({ key, id, successor }, keys, argv) {
    keys.push(key);
    argv.push(id);
    if (successor !== undefined) argv.push(successor.limit, successor.leaseMs, successor.id);
  },
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
  memory(state, { key, id, successor }, now) {
    const t = Math.floor(now);
    const expiry = remove(state, key, id);
    const live = expiry !== undefined && expiry > t ? 1 : 0;
    if (successor !== undefined) {
      const [admitted, after, reclaimed] = admit(state, key, t, successor);
      return [live, after!, admitted!, reclaimed!];
    }
    return [live, countLive(state, key, t), 0, 0];
  },
  decode(reply) {
    const [wasLive, live, handedOver, reclaimed] = readIntegers(
      'sluice_concurrency_release',
      reply,
      4,
    );
    return {
      wasLive: wasLive === 1,
      live: live!,
      handedOver: handedOver === 1,
      reclaimed: reclaimed!,
    };
  },
});

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
