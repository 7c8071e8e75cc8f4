import { defineOperation } from '../store/operation.js';
import { readInteger } from '../store/reply-reader.js';
import type { StoreCallPlan } from './call-plan.js';
import { NOW_US_LUA, WINDOW_LUA } from './window-lua.js';
import { addToWindow, nowUs, type OpenWindow, windowOfCall } from './window-memory.js';

/**
 * The arguments of {@link recordOperation}: one store call's plan and the units to count.
 *
 * @example
 * ```ts
 * const args: WindowRecordArgs = { plan, units: [-2] };
 * ```
 */
export interface WindowRecordArgs {
  /** The store call: its windows (KEYS) and the requests that name them. */
  readonly plan: StoreCallPlan;
  /** Units to count (negative: to give back), by the request's index in the whole call. */
  readonly units: readonly number[];
}

/**
 * Counts given units (negative: gives them back, never below zero) in each distinct window of
 * each request, at the granule of the decision time.
 *
 * KEYS[k]: window hash k.
 * ARGV: request count, then per request: units, quota count, then per quota: window index k,
 * ms per granule, granules per window.
 * Reply: now in microseconds.
 *
 * @example
 * ```ts
 * const nowUs = await store.run(recordOperation, { plan, units: [3] }, timestampMs);
 * ```
 */
export const recordOperation = defineOperation<WindowRecordArgs, number>({
  name: 'sluice_sliding_window_record',
  encode({ plan, units }, keys, argv) {
    for (const key of plan.keys) keys.push(key);
    argv.push(plan.requests.length);
    for (const { index, quotas } of plan.requests) {
      argv.push(units[index]!, quotas.length);
      for (const { window, quota } of quotas) {
        argv.push(window, quota.granularityMs, quota.granulesPerWindow);
      }
    }
  },
  lua: `${WINDOW_LUA}
local windows = {}
local ai = 2
for r = 1, tonumber(argv[1]) do
  local units, count = tonumber(argv[ai]), tonumber(argv[ai + 1])
  ai = ai + 2
  local counted = {}
  for q = 1, count do
    local k, gms, n = tonumber(argv[ai]), tonumber(argv[ai + 1]), tonumber(argv[ai + 2])
    ai = ai + 3
    if units ~= 0 and not counted[k] then
      counted[k] = true
      local w = windows[k]
      if not w then
        w = window_open(keys[k], math.floor(now / gms), n, gms)
        windows[k] = w
      end
      window_add(w, units, now)
    end
  end
end
return ${NOW_US_LUA}`,
  memory(state, { plan, units }, now) {
    const windows = new Map<number, OpenWindow>();
    for (const { index, quotas } of plan.requests) {
      const count = units[index]!;
      if (count === 0) continue;
      const counted = new Set<number>();
      for (const { window, quota } of quotas) {
        if (counted.has(window)) continue;
        counted.add(window);
        const w = windowOfCall(state, windows, plan.keys, window, quota, now);
        addToWindow(state, w, count, now);
      }
    }
    return nowUs(now);
  },
  decode: (reply) => readInteger('sluice_sliding_window_record', reply),
});
