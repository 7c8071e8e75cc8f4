import { hashTag } from '../store/key-parts.js';
import type { MemoryState } from '../store/store.js';

/**
 * How a key's lockout is kept, on both sides (the Lua and the memory step read it alike):
 *
 * - the block, `<store prefix>:lockout:{<key>}`: a hash of `until` (the block's end, ms of the
 *   decision clock), `offences` (blocks so far), `last` (the last block's length, ms) and
 *   `forget` (`until + forgetMs`, when the offences are forgotten); it expires then too;
 * - the refusals, `<block key>:refusals`: a list of the latest `after` refusal instants (ms),
 *   newest first, living `withinMs` after the latest; emptied when a block starts.
 *
 * Both carry the key's hash tag, so one key's lockout lives in one Redis Cluster hash slot.
 */

/**
 * The two store keys of `key`'s lockout.
 *
 * @example
 * ```ts
 * lockoutKeys('sluice', 'project:42'); // { block: 'sluice:lockout:{project%003a42}', refusals: 'sluice:lockout:{project%003a42}:refusals' }
 * ```
 */
export function lockoutKeys(storePrefix: string, key: string): LockoutKeys {
  const block = `${storePrefix}:lockout:${hashTag(key)}`;
  return { block, refusals: `${block}:refusals` };
}

/**
 * The store keys of one key's lockout.
 *
 * @example
 * ```ts
 * const { block, refusals }: LockoutKeys = lockoutKeys(store.prefix, '42');
 * ```
 */
export interface LockoutKeys {
  readonly block: string;
  readonly refusals: string;
}

/**
 * A block as the memory store holds it (the hash of the Lua side).
 *
 * @example
 * ```ts
 * const held: HeldBlock = { untilMs: 1_767_225_660_000, offences: 1, lastMs: 60_000, forgetAtMs: 1_767_312_060_000 };
 * ```
 */
export interface HeldBlock {
  untilMs: number;
  offences: number;
  lastMs: number;
  /** When the offences are forgotten: `untilMs + forgetMs`. */
  forgetAtMs: number;
}

const NO_BLOCK: HeldBlock = Object.freeze({ untilMs: 0, offences: 0, lastMs: 0, forgetAtMs: 0 });

/**
 * The block at `key` in memory at decision time `t`, or an empty one (no offence, never
 * blocked) when there is none or its offences are forgotten by `t`: the forgetting is read
 * from the stored instant, not left to the key's expiry, so calls with explicit timestamps
 * see it too.
 *
 * @example
 * ```ts
 * const held = heldBlock(state, keys.block, t);
 * if (held.untilMs > t) console.log('blocked');
 * ```
 */
export function heldBlock(state: MemoryState, key: string, t: number): HeldBlock {
  const held = state.get<HeldBlock>(key);
  return held === undefined || held.forgetAtMs <= t ? NO_BLOCK : held;
}

/**
 * How many of the refusal instants `kept` fall in the period `(t - withinMs, t]` (later ones,
 * from calls with explicit timestamps out of order, count too, as on the Lua side).
 *
 * @example
 * ```ts
 * refusalsWithin([1500, 1200, 400], 1500, 1000); // 2
 * ```
 */
export function refusalsWithin(kept: readonly number[], t: number, withinMs: number): number {
  let count = 0;
  for (const at of kept) if (at > t - withinMs) count++;
  return count;
}

/**
 * The Lua side of the helpers above: `lockout_block(key, t)` reads the hash as numbers (empty once forgotten),
 * `lockout_within(key, t, within)` counts the refusals in the period, `integer_text(n)` writes
 * an integer as Redis stores it (Lua's own conversion keeps only 14 digits).
 *
 * @example
 * ```ts
 * const lua = `${LOCKOUT_STATE_LUA}\nlocal b = lockout_block(keys[1], t)\nreturn b.until_ms`;
 * ```
 */
export const LOCKOUT_STATE_LUA = `
local function integer_text(n)
  return string.format('%d', n)
end

local function lockout_block(key, t)
  local held = redis.call('HMGET', key, 'until', 'offences', 'last', 'forget')
  if not held[4] or tonumber(held[4]) <= t then return { until_ms = 0, offences = 0, last = 0 } end
  return { until_ms = tonumber(held[1]), offences = tonumber(held[2]), last = tonumber(held[3]) }
end

local function lockout_within(key, t, within)
  local kept = redis.call('LRANGE', key, 0, -1)
  local count = 0
  for i = 1, #kept do
    if tonumber(kept[i]) > t - within then count = count + 1 end
  end
  return count
end
`;
