import { defineOperation } from '../store/operation.js';
import { readIntegers } from '../store/reply-reader.js';
import { type CountersArgs, SLOT_LUA, windowEnd } from './counter-operations.js';

/**
 * Reads `used - refunded` of every quota's current window.
 *
 * KEYS[i]: counter base of quota i.
 * ARGV: per quota: window s, shift s.
 * Reply: `{ usage of quota 1, usage of quota 2, ... }`.
 *
 * @example
 * ```ts
 * const [used] = await store.run(usageOperation, { counters: [key] });
 * ```
 */
export const usageOperation = defineOperation<Pick<CountersArgs, 'counters'>, number[]>({
  name: 'sluice_quotas_usage',
  encode({ counters }, keys, argv) {
    for (const { base, windowSeconds, shift } of counters) {
      keys.push(base);
      argv.push(windowSeconds, shift);
    }
  },
  lua: `${SLOT_LUA}
local t = now / 1000
local reply = {}
for i = 1, #keys do
  local key = slot_key(keys[i], t, tonumber(argv[2 * i - 1]), tonumber(argv[2 * i]))
  local v = redis.call('MGET', key, key .. ':r')
  reply[i] = (tonumber(v[1]) or 0) - (tonumber(v[2]) or 0)
end
return reply`,
  memory(state, { counters }, now) {
    const t = now / 1000;
    return counters.map(({ base, windowSeconds, shift }) =>
      state.usage(base, windowEnd(t, windowSeconds, shift) * 1000),
    );
  },
  decode: (reply, { counters }) => readIntegers('sluice_quotas_usage', reply, counters.length),
});
