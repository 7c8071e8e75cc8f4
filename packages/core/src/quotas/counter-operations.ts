import type { MemoryState, Reply, StoreOperation } from '../store/store.js';

/**
 * The three atomic steps of the fixed-window quotas, each as a Lua function and as the same
 * step in memory. On Redis a quota's window holds `<base>:<slot>` (used) and `<base>:<slot>:r`
 * (refunded); in memory one entry `{ u, r }` at `<base>:<slot>`. The script derives the slot
 * from the decision time, so the server's clock can decide the window.
 */

interface Counter {
  u: number;
  r: number;
}

const SLOT_LUA = `
local function slot_key(base, t, window, shift)
  return base .. ':' .. string.format('%d', math.floor((t - shift) / window))
end
local function ttl_ms(t, now, window, shift, grace)
  local next_start = (math.floor((t - shift) / window) + 1) * window + shift
  return math.floor((next_start + grace) * 1000 - now) + 1
end`;

function slotKey(base: string, t: number, window: number, shift: number): string {
  return `${base}:${Math.floor((t - shift) / window)}`;
}

/** Milliseconds until the window's next start plus grace, floored plus one (never 0), as the Lua. */
function ttlMs(t: number, now: number, window: number, shift: number, grace: number): number {
  const nextStart = (Math.floor((t - shift) / window) + 1) * window + shift;
  return Math.floor((nextStart + grace) * 1000 - now) + 1;
}

/**
 * Checks every quota and, when none is exceeded and quantity > 0, counts all of them.
 *
 * KEYS[i]: counter base of quota i (the script reads `<base>:<slot>` and `<base>:<slot>:r`).
 * ARGV: quantity, grace seconds, then per quota: limit (-1: unlimited), window s, shift s.
 * Reply: `{ now in microseconds, 1 when counted else 0, used - refunded of each quota before
 * this decision... }`.
 */
export const decideOperation: StoreOperation = {
  name: 'sluice_quotas_decide',
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
  memory(state, keys, args, now) {
    const quantity = args[0] as number;
    const grace = args[1] as number;
    const t = now / 1000;
    const reply: Reply[] = [Math.floor(now * 1000), 0];
    const names: string[] = [];
    const counters: Array<Counter | undefined> = [];
    let exceeded = false;
    for (let i = 0; i < keys.length; i++) {
      const limit = args[3 * i + 2] as number;
      const name = slotKey(keys[i]!, t, args[3 * i + 3] as number, args[3 * i + 4] as number);
      const counter = state.get<Counter>(name);
      names.push(name);
      counters.push(counter);
      const used = counter === undefined ? 0 : counter.u - counter.r;
      reply.push(used);
      if (limit >= 0 && (quantity > 0 ? used + quantity > limit : used >= limit)) exceeded = true;
    }
    if (!exceeded && quantity > 0) {
      reply[1] = 1;
      for (let i = 0; i < keys.length; i++) {
        const ttl = ttlMs(t, now, args[3 * i + 3] as number, args[3 * i + 4] as number, grace);
        const counter = counters[i];
        if (counter === undefined) state.set(names[i]!, { u: quantity, r: 0 }, ttl);
        else {
          counter.u += quantity;
          state.set(names[i]!, counter, ttl);
        }
      }
    }
    return reply;
  },
};

/**
 * Adds `quantity` to the refund counter of every quota.
 *
 * KEYS[i]: counter base of quota i.
 * ARGV: quantity, grace seconds, then per quota: window s, shift s.
 * Reply: now in microseconds.
 */
export const refundOperation: StoreOperation = {
  name: 'sluice_quotas_refund',
  lua: `${SLOT_LUA}
local quantity, grace = tonumber(argv[1]), tonumber(argv[2])
local t = now / 1000
for i = 1, #keys do
  local window, shift = tonumber(argv[2 * i + 1]), tonumber(argv[2 * i + 2])
  local key = slot_key(keys[i], t, window, shift) .. ':r'
  redis.call('INCRBY', key, quantity)
  redis.call('PEXPIRE', key, ttl_ms(t, now, window, shift, grace))
end
return math.floor(now * 1000)`,
  memory(state, keys, args, now) {
    const quantity = args[0] as number;
    const grace = args[1] as number;
    const t = now / 1000;
    for (let i = 0; i < keys.length; i++) {
      const window = args[2 * i + 2] as number;
      const shift = args[2 * i + 3] as number;
      const key = slotKey(keys[i]!, t, window, shift);
      const counter = state.get<Counter>(key) ?? { u: 0, r: 0 };
      counter.r += quantity;
      state.set(key, counter, ttlMs(t, now, window, shift, grace));
    }
    return Math.floor(now * 1000);
  },
};

/**
 * Reads `used - refunded` of every quota's current window.
 *
 * KEYS[i]: counter base of quota i.
 * ARGV: per quota: window s, shift s.
 * Reply: `{ usage of quota 1, usage of quota 2, ... }`.
 */
export const usageOperation: StoreOperation = {
  name: 'sluice_quotas_usage',
  lua: `${SLOT_LUA}
local t = now / 1000
local reply = {}
for i = 1, #keys do
  local key = slot_key(keys[i], t, tonumber(argv[2 * i - 1]), tonumber(argv[2 * i]))
  local v = redis.call('MGET', key, key .. ':r')
  reply[i] = (tonumber(v[1]) or 0) - (tonumber(v[2]) or 0)
end
return reply`,
  memory(state: MemoryState, keys, args, now) {
    const t = now / 1000;
    return keys.map((base, i) => {
      const counter = state.get<Counter>(
        slotKey(base, t, args[2 * i] as number, args[2 * i + 1] as number),
      );
      return counter === undefined ? 0 : counter.u - counter.r;
    });
  },
};
