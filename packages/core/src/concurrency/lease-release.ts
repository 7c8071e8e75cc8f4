import { defineOperation } from '../store/operation.js';
import { readIntegers } from '../store/reply-reader.js';
import { admit, countLive, LEASE_SET_LUA, type LeaseGrant, remove } from './lease-set.js';

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
