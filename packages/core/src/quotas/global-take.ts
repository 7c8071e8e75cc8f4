import { defineOperation } from '../store/operation.js';
import { readIntegers } from '../store/reply-reader.js';
import type { CounterKey } from './counter-keys.js';
import { ttlMs, windowEnd } from './counter-operations.js';

/**
 * The one atomic step of a global quota: a process takes a slice of units from the quota's
 * counter, to spend in memory (see `global-budget.ts`). The counter has the fixed-window layout
 * (`<base>:<window index>` used, `<base>:<window index>:r` refunded, expiring with the window
 * plus grace), so the usage and reset steps of the other quotas read and clear it as they are.
 *
 * A take never lifts the counter above the limit: it grants nothing unless the headroom
 * (`limit - counter`) covers `need`, and then `max(need, min(want, ceil(headroom / 4)))`, so
 * the last slices of a window shrink as the counter nears the limit and a process that asks
 * for a large slice cannot strand most of what is left.
 */

/** A slice never takes more than this share of the headroom left (beyond what is needed). */
export const HEADROOM_SHARE_DIVISOR = 4;

/**
 * The arguments of {@link globalTakeOperation}.
 *
 * @example
 * ```ts
 * const args: GlobalTakeArgs = { counter, graceSeconds: 60, limit: 1000, need: 1, want: 50,
 *   quantity: 1, expectedWindow: -1 };
 * ```
 */
export interface GlobalTakeArgs {
  /** The global quota's counter (its own hash tag, shift 0). */
  readonly counter: CounterKey;
  /** Seconds the counter outlives its window. */
  readonly graceSeconds: number;
  /** The quota's limit; -1: unlimited (counted, never refused). */
  readonly limit: number;
  /** Units the decision still needs beyond what the process holds; 0 takes nothing. */
  readonly need: number;
  /** Units the process would like to hold (at least `need`). */
  want: number;
  /** The decision's whole quantity: the need when the window is not `expectedWindow`. */
  readonly quantity: number;
  /**
   * The window index the held units belong to; when the step finds another window, those
   * units are void and the step needs `quantity` instead of `need`. -1: none held.
   */
  readonly expectedWindow: number;
}

/**
 * What {@link globalTakeOperation} found.
 *
 * @example
 * ```ts
 * const { granted, counter } = await store.run(globalTakeOperation, args);
 * ```
 */
export interface GlobalTake {
  /** The decision time in whole microseconds. */
  readonly nowMicros: number;
  /** The window index the step counted in. */
  readonly windowIndex: number;
  /** Units added to the counter for this process: 0 or at least the need. */
  readonly granted: number;
  /** `used - refunded` of the counter after the step. */
  readonly counter: number;
}

/**
 * Takes a slice of a global quota's counter, all or nothing for the need.
 *
 * KEYS[1]: the counter base `<prefix>:global:{<quota id>}:<window s>`.
 * ARGV: window s, shift s, grace s, limit (-1: unlimited), need, want, quantity, expected window.
 * Reply: `{ now in microseconds, window index, granted, counter after the step }`.
 *
 * @example
 * ```ts
 * const take = await store.run(globalTakeOperation, { counter, graceSeconds: 60, limit: 1000,
 *   need: 1, want: 50, quantity: 1, expectedWindow: -1 });
 * if (take.granted === 0) console.log('refused: the counter is at', take.counter);
 * ```
 */
export const globalTakeOperation = defineOperation<GlobalTakeArgs, GlobalTake>({
  name: 'sluice_quotas_global_take',
  encode(args, keys, argv) {
    const { counter } = args;
    keys.push(counter.base);
    argv.push(counter.windowSeconds, counter.shift, args.graceSeconds, args.limit);
    argv.push(args.need, args.want, args.quantity, args.expectedWindow);
  },
  lua: `
local window, shift, grace = argv[1] + 0, argv[2] + 0, argv[3] + 0
local limit, need, want = argv[4] + 0, argv[5] + 0, argv[6] + 0
local quantity, expected = argv[7] + 0, argv[8] + 0
local t = now / 1000
local d = t - shift
local slot = (d - d % window) / window
if slot ~= expected then need = quantity end
if want < need then want = need end
local name = keys[1] .. ':' .. slot
local values = redis.call('MGET', name, name .. ':r')
local count = (values[1] or 0) - (values[2] or 0)
local granted = 0
if limit < 0 then
  granted = want
elseif need > 0 and limit - count >= need then
  local share = math.ceil((limit - count) / ${HEADROOM_SHARE_DIVISOR})
  granted = math.max(need, math.min(want, share))
end
if granted > 0 then
  if values[1] then
    redis.call('INCRBY', name, granted)
  else
    local ttl = ((slot + 1) * window + shift + grace) * 1000 - now
    redis.call('SET', name, granted, 'PX', ttl - ttl % 1 + 1)
  end
end
return { now * 1000 - (now * 1000) % 1, slot, granted, count + granted }`,
  memory(state, args, now) {
    const { counter } = args;
    const { windowSeconds, shift } = counter;
    const t = now / 1000;
    const slot = Math.floor((t - shift) / windowSeconds);
    const need = slot === args.expectedWindow ? args.need : args.quantity;
    const want = Math.max(args.want, need);
    const end = windowEnd(t, windowSeconds, shift);
    const count = state.usage(counter.base, end * 1000);
    let granted = 0;
    if (args.limit < 0) granted = want;
    else if (need > 0 && args.limit - count >= need) {
      const share = Math.ceil((args.limit - count) / HEADROOM_SHARE_DIVISOR);
      granted = Math.max(need, Math.min(want, share));
    }
    if (granted > 0) {
      state.count(counter.base, end * 1000, granted, ttlMs(end, now, args.graceSeconds));
    }
    return [Math.floor(now * 1000), slot, granted, count + granted];
  },
  decode(reply) {
    const [nowMicros, windowIndex, granted, counter] = readIntegers(
      'sluice_quotas_global_take',
      reply,
      4,
    );
    return {
      nowMicros: nowMicros!,
      windowIndex: windowIndex!,
      granted: granted!,
      counter: counter!,
    };
  },
});
