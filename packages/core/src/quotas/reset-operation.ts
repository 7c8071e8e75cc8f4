import { defineOperation } from '../store/operation.js';
import { readIntegers } from '../store/reply-reader.js';
import { type CountersArgs, SLOT_LUA, ttlMs, windowEnd } from './counter-operations.js';

/**
 * Clears the current window of every given quota counter and says what it held.
 *
 * On Redis it deletes `<base>:<slot>` and `<base>:<slot>:r`; in memory, where the counters of
 * one window live together, it refunds what the counter holds, which leaves `used - refunded`
 * at 0 just the same. Past windows are left to expire: no decision reads them.
 *
 * KEYS[i]: counter base of quota i.
 * ARGV: grace seconds, then per quota: window s, shift s.
 * Reply: `{ used - refunded of quota 1 before the reset, ... }`.
 *
 * @example
 * ```ts
 * const [removed] = await store.run(resetCountersOperation, { graceSeconds: 60, counters: [key] });
 * ```
 */
export const resetCountersOperation = defineOperation<CountersArgs, number[]>({
  name: 'sluice_quotas_reset',
  encode({ graceSeconds, counters }, keys, argv) {
    argv.push(graceSeconds);
    for (const { base, windowSeconds, shift } of counters) {
      keys.push(base);
      argv.push(windowSeconds, shift);
    }
  },
  lua: `${SLOT_LUA}
local t = now / 1000
local reply = {}
for i = 1, #keys do
  local key = slot_key(keys[i], t, tonumber(argv[2 * i]), tonumber(argv[2 * i + 1]))
  local v = redis.call('MGET', key, key .. ':r')
  reply[i] = (tonumber(v[1]) or 0) - (tonumber(v[2]) or 0)
  redis.call('DEL', key, key .. ':r')
end
return reply`,
  memory(state, { graceSeconds, counters }, now) {
    const t = now / 1000;
    return counters.map(({ base, windowSeconds, shift }) => {
      const end = windowEnd(t, windowSeconds, shift);
      const used = state.usage(base, end * 1000);
      if (used !== 0) state.refund(base, end * 1000, used, ttlMs(end, now, graceSeconds));
      return used;
    });
  },
  decode: (reply, { counters }) => readIntegers('sluice_quotas_reset', reply, counters.length),
});
