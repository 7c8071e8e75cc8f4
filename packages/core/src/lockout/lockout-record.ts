import { defineOperation } from '../store/operation.js';
import { readIntegers } from '../store/reply-reader.js';
import type { ResolvedLockoutOptions } from './lockout-options.js';
import { heldBlock, LOCKOUT_STATE_LUA, type LockoutKeys, refusalsWithin } from './lockout-state.js';

/**
 * The arguments of {@link recordRefusalOperation}: the key's store keys and the lockout's
 * options.
 *
 * @example
 * ```ts
 * const args: RecordRefusalArgs = { keys: lockoutKeys('sluice', '42'), options: resolveLockoutOptions(options) };
 * ```
 */
export interface RecordRefusalArgs {
  readonly keys: LockoutKeys;
  readonly options: ResolvedLockoutOptions;
}

/**
 * What {@link recordRefusalOperation} found or did.
 *
 * @example
 * ```ts
 * const { blockedMs, started } = await store.run(recordRefusalOperation, args);
 * ```
 */
export interface RecordedRefusal {
  /** Milliseconds the key stays blocked from the decision time; 0: not blocked. */
  readonly blockedMs: number;
  /** Blocks the key has had and not yet forgotten (this one included). */
  readonly offences: number;
  /** Refusals counted in the period by this call (0 when the key was already blocked). */
  readonly refusals: number;
  /** True when this refusal started the block. */
  readonly started: boolean;
}

/**
 * Counts one refusal of a key and, at `after` refusals within the period, blocks it: for
 * `blockMs` on a first offence, else the last block's length times `backoff` (rounded up to a
 * whole ms), at most `maxBlockMs`. A key already blocked counts nothing and answers its block.
 *
 * KEYS[1]: the block hash; KEYS[2]: the refusal list (see `lockout-state.ts`).
 * ARGV: after, within ms, block ms, backoff, max block ms, forget ms.
 * Reply: `{ ms blocked from now (0: not blocked), offences, refusals counted in the period,
 * 1 when this call started the block }`.
 *
 * @example
 * ```ts
 * const recorded = await store.run(recordRefusalOperation, { keys, options });
 * ```
 */
export const recordRefusalOperation = defineOperation<RecordRefusalArgs, RecordedRefusal>({
  name: 'sluice_lockout_record',
  encode({ keys: { block, refusals }, options: o }, keys, argv) {
    keys.push(block, refusals);
    argv.push(o.after, o.withinMs, o.blockMs, o.backoff, o.maxBlockMs, o.forgetMs);
  },
  lua: `${LOCKOUT_STATE_LUA}
local t = math.floor(now)
local b = lockout_block(keys[1], t)
if b.until_ms > t then return { b.until_ms - t, b.offences, 0, 0 } end
local after, within = tonumber(argv[1]), tonumber(argv[2])
redis.call('LPUSH', keys[2], integer_text(t))
redis.call('LTRIM', keys[2], 0, after - 1)
local count = lockout_within(keys[2], t, within)
if count < after then
  redis.call('PEXPIRE', keys[2], within)
  return { 0, b.offences, count, 0 }
end
local d = tonumber(argv[3])
if b.offences > 0 and b.last > 0 then
  d = math.min(tonumber(argv[5]), math.ceil(b.last * tonumber(argv[4])))
end
local offences = b.offences + 1
redis.call('DEL', keys[2])
local forget = tonumber(argv[6])
redis.call('HSET', keys[1], 'until', integer_text(t + d), 'offences', offences, 'last', integer_text(d),
  'forget', integer_text(t + d + forget))
redis.call('PEXPIRE', keys[1], d + forget)
return { d, offences, count, 1 }`,
  memory(state, { keys, options }, now) {
    const t = Math.floor(now);
    const b = heldBlock(state, keys.block, t);
    if (b.untilMs > t) return [b.untilMs - t, b.offences, 0, 0];
    const kept = [t, ...(state.get<number[]>(keys.refusals) ?? [])].slice(0, options.after);
    const count = refusalsWithin(kept, t, options.withinMs);
    if (count < options.after) {
      state.set(keys.refusals, kept, options.withinMs);
      return [0, b.offences, count, 0];
    }
    const d =
      b.offences > 0 && b.lastMs > 0
        ? Math.min(options.maxBlockMs, Math.ceil(b.lastMs * options.backoff))
        : options.blockMs;
    const offences = b.offences + 1;
    state.delete(keys.refusals);
    const untilMs = t + d;
    const forgetAtMs = untilMs + options.forgetMs;
    state.set(keys.block, { untilMs, offences, lastMs: d, forgetAtMs }, d + options.forgetMs);
    return [d, offences, count, 1];
  },
  decode(reply) {
    const [blockedMs, offences, refusals, started] = readIntegers(
      'sluice_lockout_record',
      reply,
      4,
    );
    return {
      blockedMs: blockedMs!,
      offences: offences!,
      refusals: refusals!,
      started: started === 1,
    };
  },
});
