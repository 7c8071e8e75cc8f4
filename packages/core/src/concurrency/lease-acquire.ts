import { defineOperation } from '../store/operation.js';
import { readIntegers } from '../store/reply-reader.js';
import { admit, LEASE_SET_LUA, type LeaseGrant } from './lease-set.js';

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
  decode(reply) {
    const [acquired, live, reclaimed, expiresInMs] = readIntegers(
      'sluice_concurrency_acquire',
      reply,
      4,
    );
    return {
      acquired: acquired === 1,
      live: live!,
      reclaimed: reclaimed!,
      expiresInMs: expiresInMs!,
    };
  },
});
