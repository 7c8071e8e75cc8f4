import { defineOperation } from '../store/operation.js';
import { readIntegers } from '../store/reply-reader.js';
import type { CounterKey } from './counter-keys.js';
import { enforcedLimit, type QuotaConfig } from './quota-config.js';

/**
 * The counter layout of the fixed-window quotas and their decide step; the other steps have a
 * file each (`refund-operation.ts`, `usage-operation.ts`, `reset-operation.ts`), every one a
 * Lua function beside the same step in memory. On Redis a quota's window holds `<base>:<slot>`
 * (used) and `<base>:<slot>:r` (refunded); in memory the counter `<base>` of the window that
 * ends where the slot ends (the memory store keeps the counters of one window end together, see
 * `store/counter-window.ts`). The script derives the slot from the decision time, so the
 * server's clock can decide the window.
 */

/**
 * Lua helpers: `slot_key(base, t, window, shift)` and `ttl_ms(t, now, window, shift, grace)`.
 *
 * @example
 * ```ts
 * const lua = `${SLOT_LUA}\nreturn slot_key(keys[1], now / 1000, 60, 7)`;
 * ```
 */
export const SLOT_LUA = `
local function slot_key(base, t, window, shift)
  return base .. ':' .. string.format('%d', math.floor((t - shift) / window))
end
local function ttl_ms(t, now, window, shift, grace)
  local next_start = (math.floor((t - shift) / window) + 1) * window + shift
  return math.floor((next_start + grace) * 1000 - now) + 1
end`;

/**
 * Seconds at which the window holding `t` ends (the next window's start).
 *
 * @example
 * ```ts
 * windowEnd(125, 60, 7); // 127
 * ```
 */
export function windowEnd(t: number, window: number, shift: number): number {
  return (Math.floor((t - shift) / window) + 1) * window + shift;
}

/**
 * Milliseconds until the window's end plus grace, floored plus one (never 0), as the Lua.
 *
 * @example
 * ```ts
 * ttlMs(127, 125_000, 60); // 62001
 * ```
 */
export function ttlMs(end: number, now: number, grace: number): number {
  return Math.floor((end + grace) * 1000 - now) + 1;
}

/**
 * The arguments of `usageOperation` and `resetCountersOperation`.
 *
 * @example
 * ```ts
 * const args: CountersArgs = { graceSeconds: 60, counters: [key] };
 * ```
 */
export interface CountersArgs {
  /** Seconds a counter outlives its window. */
  readonly graceSeconds: number;
  /** The counters read, in the order of the reply. */
  readonly counters: readonly CounterKey[];
}

/**
 * The arguments of {@link decideOperation}.
 *
 * @example
 * ```ts
 * const args: DecideArgs = { quantity: 1, graceSeconds: 60, counters: [key], quotas: [quota] };
 * ```
 */
export interface DecideArgs {
  /** Units asked for; 0 checks without counting. */
  readonly quantity: number;
  /** Seconds a counter outlives its window. */
  readonly graceSeconds: number;
  /** The counter of each quota, in the order of `quotas`. */
  readonly counters: readonly CounterKey[];
  /** The quotas checked, in the order of `counters`; `limit` null: counted, never refused. */
  readonly quotas: readonly QuotaConfig[];
}

/**
 * What {@link decideOperation} found.
 *
 * @example
 * ```ts
 * const { nowMicros, counted, used } = await store.run(decideOperation, args);
 * ```
 */
export interface QuotasDecision {
  /** The decision time in whole microseconds. */
  readonly nowMicros: number;
  /** True when the request was counted (no quota exceeded and quantity > 0). */
  readonly counted: boolean;
  /** `used - refunded` of each quota before this decision, in the order of the arguments. */
  readonly used: readonly number[];
}

/**
 * Checks every quota and, when none is exceeded and quantity > 0, counts all of them.
 *
 * KEYS[i]: counter base of quota i (the script reads `<base>:<slot>` and `<base>:<slot>:r`).
 * ARGV: quantity, grace seconds, then per quota: limit (-1: unlimited), window s, shift s.
 * Reply: `{ now in microseconds, 1 when counted else 0, used - refunded of each quota before
 * this decision... }`.
 *
 * @example
 * ```ts
 * const { counted, used } = await store.run(decideOperation, { quantity: 1, graceSeconds: 60,
 *   counters: [counterKeys.of(7, 'project', 42, quota)], quotas: [quota] });
 * ```
 */
export const decideOperation = defineOperation<DecideArgs, QuotasDecision>({
  name: 'sluice_quotas_decide',
  encode({ quantity, graceSeconds, counters, quotas }, keys, argv) {
    argv.push(quantity, graceSeconds);
    for (let i = 0; i < counters.length; i++) {
      const counter = counters[i]!;
      keys.push(counter.base);
      argv.push(enforcedLimit(quotas[i]!), counter.windowSeconds, counter.shift);
    }
  },
  lua: `
-- Hot path, written for Lua 5.1 without a JIT: arithmetic coerces the string arguments
-- (no tonumber calls), x - x % 1 floors without a call, and a number concatenated into a key
-- prints as an integer below 1e14.
local quantity, grace = argv[1] + 0, argv[2] + 0
local t = now / 1000
local names, ttls = {}, {}
for i = 1, #keys do
  local window, shift = argv[3 * i + 1] + 0, argv[3 * i + 2] + 0
  local d = t - shift
  local slot = (d - d % window) / window
  local name = keys[i] .. ':' .. slot
  names[2 * i - 1] = name
  names[2 * i] = name .. ':r'
  local ttl = ((slot + 1) * window + shift + grace) * 1000 - now
  ttls[i] = ttl - ttl % 1 + 1
end
local values = redis.call('MGET', unpack(names))
local reply = { now * 1000 - (now * 1000) % 1, 0 }
local exceeded = false
for i = 1, #keys do
  local limit = argv[3 * i] + 0
  local used = (values[2 * i - 1] or 0) - (values[2 * i] or 0)
  reply[i + 2] = used
  if limit >= 0 and ((quantity > 0 and used + quantity > limit) or (quantity == 0 and used >= limit)) then
    exceeded = true
  end
end
if not exceeded and quantity > 0 then
  reply[2] = 1
  for i = 1, #keys do
    if values[2 * i - 1] then
      redis.call('INCRBY', names[2 * i - 1], quantity)
    else
      redis.call('SET', names[2 * i - 1], quantity, 'PX', ttls[i])
    end
  end
end
return reply`,
  memory(state, { quantity, graceSeconds, counters, quotas }, now) {
    const t = now / 1000;
    const count = counters.length;
    const reply: number[] = [Math.floor(now * 1000), 0];
    let exceeded = false;
    for (let i = 0; i < count; i++) {
      const counter = counters[i]!;
      const limit = enforcedLimit(quotas[i]!);
      const end = windowEnd(t, counter.windowSeconds, counter.shift);
      const used = state.usage(counter.base, end * 1000);
      reply.push(used);
      if (limit >= 0 && (quantity > 0 ? used + quantity > limit : used >= limit)) exceeded = true;
    }
    if (!exceeded && quantity > 0) {
      reply[1] = 1;
      for (let i = 0; i < count; i++) {
        const counter = counters[i]!;
        const end = windowEnd(t, counter.windowSeconds, counter.shift);
        state.count(counter.base, end * 1000, quantity, ttlMs(end, now, graceSeconds));
      }
    }
    return reply;
  },
  decode(reply, { counters }) {
    const values = readIntegers('sluice_quotas_decide', reply, 2 + counters.length);
    return { nowMicros: values[0]!, counted: values[1] === 1, used: values.slice(2) };
  },
});
