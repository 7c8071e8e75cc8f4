import { defineOperation } from '../store/operation.js';
import { readIntegers } from '../store/reply-reader.js';
import { heldBlock, LOCKOUT_STATE_LUA, type LockoutKeys, refusalsWithin } from './lockout-state.js';

/**
 * The arguments of {@link lockoutStatusOperation}.
 *
 * @example
 * ```ts
 * const args: LockoutStatusArgs = { keys: lockoutKeys('sluice', '42'), withinMs: 60_000 };
 * ```
 */
export interface LockoutStatusArgs {
  readonly keys: LockoutKeys;
  /** The period refusals are counted in, ms. */
  readonly withinMs: number;
}

/**
 * A key's lockout as the store holds it at the decision time.
 *
 * @example
 * ```ts
 * const { blockedMs } = await store.run(lockoutStatusOperation, args);
 * if (blockedMs > 0) refuse(blockedMs / 1000);
 * ```
 */
export interface LockoutStatus {
  /** Milliseconds the key stays blocked; 0: not blocked. */
  readonly blockedMs: number;
  /** Blocks the key has had and not yet forgotten. */
  readonly offences: number;
  /** Refusals in the period towards the next block (0 while blocked). */
  readonly refusals: number;
}

/**
 * Reads a key's lockout without changing it.
 *
 * KEYS[1]: the block hash; KEYS[2]: the refusal list (see `lockout-state.ts`).
 * ARGV: within ms.
 * Reply: `{ ms blocked from now (0: not blocked), offences, refusals in the period }`.
 *
 * @example
 * ```ts
 * const status = await store.run(lockoutStatusOperation, { keys, withinMs: 60_000 });
 * ```
 */
export const lockoutStatusOperation = defineOperation<LockoutStatusArgs, LockoutStatus>({
  name: 'sluice_lockout_status',
  encode({ keys: { block, refusals }, withinMs }, keys, argv) {
    keys.push(block, refusals);
    argv.push(withinMs);
  },
  lua: `${LOCKOUT_STATE_LUA}
local t = math.floor(now)
local b = lockout_block(keys[1], t)
if b.until_ms > t then return { b.until_ms - t, b.offences, 0 } end
return { 0, b.offences, lockout_within(keys[2], t, tonumber(argv[1])) }`,
  memory(state, { keys, withinMs }, now) {
    const t = Math.floor(now);
    const b = heldBlock(state, keys.block, t);
    if (b.untilMs > t) return [b.untilMs - t, b.offences, 0];
    return [0, b.offences, refusalsWithin(state.get<number[]>(keys.refusals) ?? [], t, withinMs)];
  },
  decode(reply) {
    const [blockedMs, offences, refusals] = readIntegers('sluice_lockout_status', reply, 3);
    return { blockedMs: blockedMs!, offences: offences!, refusals: refusals! };
  },
});
