import { defineOperation } from '../store/operation.js';
import { readInteger } from '../store/reply-reader.js';
import { cardinalityOf, openValues } from './tracked-values.js';
import { TRACKED_VALUES_LUA } from './tracked-values-lua.js';

/**
 * The arguments of {@link resetValuesOperation}: one window of one scope.
 *
 * @example
 * ```ts
 * const args: ResetValuesArgs = { key: cardinalityKey('sluice', 'org:1', quota), granularityMs: 60_000, granules: 60 };
 * ```
 */
export interface ResetValuesArgs {
  readonly key: string;
  readonly granularityMs: number;
  /** Granules per window. */
  readonly granules: number;
}

/**
 * Forgets every value a window tracks, so each is new again.
 *
 * KEYS[1]: the window (`cardinalityKey`).
 * ARGV: ms per granule, granules per window.
 * Reply: the number of values the window tracked at the decision time.
 *
 * @example
 * ```ts
 * const forgotten = await store.run(resetValuesOperation, { key, granularityMs: 60_000, granules: 60 });
 * ```
 */
export const resetValuesOperation = defineOperation<ResetValuesArgs, number>({
  name: 'sluice_cardinality_reset',
  encode({ key, granularityMs, granules }, keys, argv) {
    keys.push(key);
    argv.push(granularityMs, granules);
  },
  lua: `${TRACKED_VALUES_LUA}
local gms, n = tonumber(argv[1]), tonumber(argv[2])
local w = values_open(keys[1], math.floor(now / gms), n, gms)
redis.call('DEL', keys[1])
return w.stored`,
  memory(state, { key, granularityMs, granules }, now) {
    const w = openValues(state, key, Math.floor(now / granularityMs), granules, granularityMs);
    state.delete(key);
    return cardinalityOf(w);
  },
  decode: (reply) => readInteger('sluice_cardinality_reset', reply),
});
