import { defineOperation } from '../store/operation.js';
import { readArray, readInteger, readIntegers } from '../store/reply-reader.js';
import type { Reply } from '../store/store.js';
import {
  admitValue,
  cardinalityOf,
  isTracked,
  keepValues,
  type OpenValues,
  openValues,
  valuesRetryMs,
} from './tracked-values.js';
import { TRACKED_VALUES_LUA } from './tracked-values-lua.js';

/**
 * What a call does with its values: `check` admits without storing, `checkAndUse` admits and
 * stores in the same step, `use` stores values a check admitted, refusing none.
 *
 * @example
 * ```ts
 * const mode: CardinalityMode = 'checkAndUse';
 * ```
 */
export type CardinalityMode = 'check' | 'checkAndUse' | 'use';

const MODE_CODES: Record<CardinalityMode, number> = { check: 0, checkAndUse: 1, use: 2 };

/**
 * One request of a scope, as the operation reads it.
 *
 * @example
 * ```ts
 * const planned: PlannedValues = { window: 1, granularityMs: 1000, granules: 60, limit: 100, hashes: [valueHash('a')] };
 * ```
 */
export interface PlannedValues {
  /** 1-based index of the request's window among the call's keys. */
  readonly window: number;
  readonly granularityMs: number;
  /** Granules per window. */
  readonly granules: number;
  readonly limit: number;
  /** The request's values as {@link valueHash}es, in order. */
  readonly hashes: readonly number[];
}

/**
 * The arguments of one call: the windows of one scope and the requests that name them.
 *
 * @example
 * ```ts
 * const call: CardinalityCall = { mode: 'checkAndUse', keys: [key], requests: [planned] };
 * ```
 */
export interface CardinalityCall {
  readonly mode: CardinalityMode;
  /** The scope's windows; all share the scope's hash tag. */
  readonly keys: readonly string[];
  readonly requests: readonly PlannedValues[];
}

/**
 * What one call said about one request.
 *
 * @example
 * ```ts
 * const { admitted, cardinality, retryMs } = answers[0];
 * ```
 */
export interface ValuesAnswer {
  /** Distinct values the window tracks after the request. */
  readonly cardinality: number;
  /** 0 when nothing was refused, else ms until a new value fits; -1 never. */
  readonly retryMs: number;
  /** Per value, in order: 1 admitted, 0 refused. */
  readonly admitted: readonly number[];
}

/**
 * The decision's time and one answer per request.
 *
 * @example
 * ```ts
 * const { nowUs, answers } = await store.run(cardinalityOperation, call);
 * ```
 */
export interface CardinalityReply {
  /** The decision time in whole microseconds. */
  readonly nowUs: number;
  readonly answers: ValuesAnswer[];
}

const NAME = 'sluice_cardinality_decide';

/**
 * Decides the values of a scope's requests in order: a value is admitted when its window
 * tracks it (or an earlier value of the call admitted it), or when the window tracks fewer
 * than `limit` values; otherwise refused. One atomic step per scope, however many values.
 *
 * KEYS[k]: window k of the scope (a sorted set, see `tracked-values-lua.ts`).
 * ARGV: mode (0 check, 1 check and use, 2 use), request count, then per request: window index
 * k, ms per granule, granules per window, limit, value count, then the value hashes.
 * Reply: `{ now in microseconds, per request { cardinality, retry ms (0: nothing refused, -1:
 * never), then 1 (admitted) or 0 (refused) per value } }`.
 *
 * @example
 * ```ts
 * const { answers } = await store.run(cardinalityOperation, { mode: 'check', keys, requests });
 * ```
 */
export const cardinalityOperation = defineOperation<CardinalityCall, CardinalityReply>({
  name: NAME,
  encode({ mode, keys, requests }, keysOut, argv) {
    for (const key of keys) keysOut.push(key);
    argv.push(MODE_CODES[mode], requests.length);
    for (const r of requests) {
      argv.push(r.window, r.granularityMs, r.granules, r.limit, r.hashes.length);
      for (const hash of r.hashes) argv.push(hash);
    }
  },
  lua: `${TRACKED_VALUES_LUA}
local mode = tonumber(argv[1])
local windows = {}
local reply = { math.floor(now * 1000 + 0.5) }
local ai = 3
for r = 1, tonumber(argv[2]) do
  local k, gms, n, limit, count = tonumber(argv[ai]), tonumber(argv[ai + 1]),
    tonumber(argv[ai + 2]), tonumber(argv[ai + 3]), tonumber(argv[ai + 4])
  ai = ai + 5
  local w = windows[k]
  if not w then
    w = values_open(keys[k], math.floor(now / gms), n, gms)
    windows[k] = w
  end
  local stored = {}
  if count > 0 then stored = values_stored(w, ai, ai + count - 1, argv) end
  local out = { 0, 0 }
  local refused = false
  for i = 1, count do
    local hash = argv[ai + i - 1]
    local score = stored[i] or false
    if mode == 2 or score or w.known[hash] or w.stored + w.pending < limit then
      values_admit(w, hash, score, mode ~= 0)
      out[i + 2] = 1
    else
      refused = true
      out[i + 2] = 0
    end
  end
  ai = ai + count
  values_flush(w)
  out[1] = w.stored + w.pending
  if refused then out[2] = values_retry_ms(w, limit, now) end
  reply[r + 1] = out
end
for _, w in pairs(windows) do values_keep(w, now) end
return reply`,
  memory(state, { mode, keys, requests }, now) {
    const windows = new Map<number, OpenValues>();
    const reply: Reply[] = [Math.floor(now * 1000 + 0.5)];
    for (const r of requests) {
      let w = windows.get(r.window);
      if (w === undefined) {
        const c = Math.floor(now / r.granularityMs);
        w = openValues(state, keys[r.window - 1]!, c, r.granules, r.granularityMs);
        windows.set(r.window, w);
      }
      const out: number[] = [0, 0];
      let refused = false;
      r.hashes.forEach((hash) => {
        const tracked = isTracked(w, hash);
        if (mode === 'use' || tracked || cardinalityOf(w) < r.limit) {
          admitValue(w, hash, mode !== 'check');
          out.push(1);
        } else {
          refused = true;
          out.push(0);
        }
      });
      out[0] = cardinalityOf(w);
      if (refused) out[1] = valuesRetryMs(w, r.limit, now);
      reply.push(out);
    }
    for (const w of windows.values()) keepValues(state, w, now);
    return reply;
  },
  decode(reply) {
    const [head, ...rows] = readArray(NAME, reply, 1);
    const answers = rows.map((row) => {
      const [cardinality, retryMs, ...admitted] = readIntegers(NAME, row, 2, true);
      return { cardinality: cardinality!, retryMs: retryMs!, admitted };
    });
    return { nowUs: readInteger(NAME, head ?? null), answers };
  },
});
