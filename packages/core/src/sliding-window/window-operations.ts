import { positionalOperation } from '../store/operation.js';
import type { Reply } from '../store/store.js';
import { WINDOW_LUA } from './window-lua.js';
import { addToWindow, type OpenWindow, openWindow, windowRetryMs } from './window-memory.js';

/**
 * The two atomic steps of the sliding-window limiter, each as a Lua function and as the same
 * step in memory, over the window state of `window-lua.ts` / `window-memory.ts`.
 */

/** `now` in whole microseconds, the time every reply starts with. */
const NOW_US_LUA = 'math.floor(now * 1000 + 0.5)';
const nowUs = (now: number): number => Math.floor(now * 1000 + 0.5);

/**
 * Decides the grants of a list of requests in order, and with `consume` counts them.
 *
 * KEYS[k]: window hash k (one per tag, window and granularity).
 * ARGV: consume (1 or 0), request count, then per request: requested, quota count, then per
 * quota: window index k, ms per granule, granules per window, limit.
 * Reply: `{ now in microseconds, per request { granted, per quota: remaining, retry ms } }`,
 * where remaining = max(0, limit - used) as the request found it (grants earlier in the call
 * included) and retry ms is 0 when the window allows one more unit after the grant, -1 never.
 * A request's grant is counted once in each distinct window it names.
 *
 * @example
 * ```ts
 * const reply = await store.run(decideOperation, { keys: plan.keys, args: decideArgs(plan, true, asked) });
 * ```
 */
export const decideOperation = positionalOperation({
  name: 'sluice_sliding_window_decide',
  lua: `${WINDOW_LUA}
local consume = tonumber(argv[1]) == 1
local windows = {}
local reply = { ${NOW_US_LUA} }
local ai = 3
for r = 1, tonumber(argv[2]) do
  local requested, count = tonumber(argv[ai]), tonumber(argv[ai + 1])
  ai = ai + 2
  local granted, checked = requested, {}
  for q = 1, count do
    local k, gms, n, limit = tonumber(argv[ai]), tonumber(argv[ai + 1]), tonumber(argv[ai + 2]), tonumber(argv[ai + 3])
    ai = ai + 4
    local w = windows[k]
    if not w then
      w = window_open(keys[k], math.floor(now / gms), n, gms)
      windows[k] = w
    end
    local remaining = math.max(0, limit - w.used)
    if remaining < granted then granted = remaining end
    checked[q] = { w, limit, remaining }
  end
  local counted = {}
  for q = 1, count do
    local w = checked[q][1]
    if not counted[w] then
      counted[w] = true
      if consume then window_add(w, granted, now) end
      w.used = w.used + granted
    end
  end
  local out = { granted }
  for q = 1, count do
    out[2 * q] = checked[q][3]
    out[2 * q + 1] = window_retry_ms(checked[q][1], checked[q][2], now)
  end
  reply[r + 1] = out
end
return reply`,
  memory(state, keys, args, now) {
    const consume = Number(args[0]) === 1;
    const windows = new Map<number, OpenWindow>();
    const reply: Reply[] = [nowUs(now)];
    let ai = 2;
    const requests = Number(args[1]);
    for (let r = 0; r < requests; r++) {
      const requested = Number(args[ai]);
      const count = Number(args[ai + 1]);
      ai += 2;
      let granted = requested;
      const checked: Array<{ w: OpenWindow; limit: number; remaining: number }> = [];
      for (let q = 0; q < count; q++) {
        const k = Number(args[ai]);
        const gms = Number(args[ai + 1]);
        const n = Number(args[ai + 2]);
        const limit = Number(args[ai + 3]);
        ai += 4;
        let w = windows.get(k);
        if (w === undefined) {
          w = openWindow(state, keys[k - 1]!, Math.floor(now / gms), n, gms);
          windows.set(k, w);
        }
        const remaining = Math.max(0, limit - w.used);
        if (remaining < granted) granted = remaining;
        checked.push({ w, limit, remaining });
      }
      const counted = new Set<OpenWindow>();
      for (const { w } of checked) {
        if (counted.has(w)) continue;
        counted.add(w);
        if (consume) addToWindow(state, w, granted, now);
        w.used += granted;
      }
      const out: Reply[] = [granted];
      for (const { w, limit, remaining } of checked) {
        out.push(remaining, windowRetryMs(w, limit, now));
      }
      reply.push(out);
    }
    return reply;
  },
});

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
 * await store.run(recordOperation, { keys: plan.keys, args: recordArgs(plan, units), timestampMs });
 * ```
 */
export const recordOperation = positionalOperation({
  name: 'sluice_sliding_window_record',
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
  memory(state, keys, args, now) {
    const windows = new Map<number, OpenWindow>();
    let ai = 1;
    const requests = Number(args[0]);
    for (let r = 0; r < requests; r++) {
      const units = Number(args[ai]);
      const count = Number(args[ai + 1]);
      ai += 2;
      const counted = new Set<number>();
      for (let q = 0; q < count; q++) {
        const k = Number(args[ai]);
        const gms = Number(args[ai + 1]);
        const n = Number(args[ai + 2]);
        ai += 3;
        if (units === 0 || counted.has(k)) continue;
        counted.add(k);
        let w = windows.get(k);
        if (w === undefined) {
          w = openWindow(state, keys[k - 1]!, Math.floor(now / gms), n, gms);
          windows.set(k, w);
        }
        addToWindow(state, w, units, now);
      }
    }
    return nowUs(now);
  },
});
