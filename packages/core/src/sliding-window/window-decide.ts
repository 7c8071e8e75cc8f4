import { defineOperation } from '../store/operation.js';
import { readArray, readInteger, readIntegers } from '../store/reply-reader.js';
import type { Reply } from '../store/store.js';
import type { RequestAnswer, StoreCallPlan } from './call-plan.js';
import { NOW_US_LUA, WINDOW_LUA } from './window-lua.js';
import {
  addToWindow,
  nowUs,
  type OpenWindow,
  windowOfCall,
  windowRetryMs,
} from './window-memory.js';

/**
 * The arguments of {@link decideOperation}: one store call's plan and what each request asks.
 *
 * @example
 * ```ts
 * const args: WindowDecideArgs = { plan, consume: true, asked: [5] };
 * ```
 */
export interface WindowDecideArgs {
  /** The store call: its windows (KEYS) and the requests that name them. */
  readonly plan: StoreCallPlan;
  /** True to count the grants, false only to check. */
  readonly consume: boolean;
  /** Units asked, by the request's index in the whole call. */
  readonly asked: readonly number[];
}

/**
 * What {@link decideOperation} answered.
 *
 * @example
 * ```ts
 * const { nowUs, answers } = await store.run(decideOperation, { plan, consume: true, asked });
 * ```
 */
export interface WindowDecision {
  /** The decision time in whole microseconds. */
  readonly nowUs: number;
  /** One answer per request of the plan, in the plan's order. */
  readonly answers: RequestAnswer[];
}

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
 * const { nowUs, answers } = await store.run(decideOperation, { plan, consume: true, asked: [5] });
 * ```
 */
export const decideOperation = defineOperation<WindowDecideArgs, WindowDecision>({
  name: 'sluice_sliding_window_decide',
  encode({ plan, consume, asked }, keys, argv) {
    for (const key of plan.keys) keys.push(key);
    argv.push(consume ? 1 : 0, plan.requests.length);
    for (const { index, quotas } of plan.requests) {
      argv.push(asked[index]!, quotas.length);
      for (const { window, quota } of quotas) {
        argv.push(window, quota.granularityMs, quota.granulesPerWindow, quota.limit);
      }
    }
  },
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
  memory(state, { plan, consume, asked }, now) {
    const windows = new Map<number, OpenWindow>();
    const reply: Reply[] = [nowUs(now)];
    for (const { index, quotas } of plan.requests) {
      let granted = asked[index]!;
      const checked: Array<{ w: OpenWindow; limit: number; remaining: number }> = [];
      for (const { window, quota } of quotas) {
        const { limit } = quota;
        const w = windowOfCall(state, windows, plan.keys, window, quota, now);
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
  decode(reply, { plan }) {
    const operation = 'sluice_sliding_window_decide';
    const list = readArray(operation, reply, 1 + plan.requests.length);
    const answers = plan.requests.map(({ index, quotas }, r): RequestAnswer => {
      const out = readIntegers(operation, list[r + 1]!, 1 + 2 * quotas.length);
      return {
        index,
        granted: out[0]!,
        quotas: quotas.map(({ position }, q) => ({
          position,
          remaining: out[2 * q + 1]!,
          retryMs: out[2 * q + 2]!,
        })),
      };
    });
    return { nowUs: readInteger(operation, list[0]!), answers };
  },
});
