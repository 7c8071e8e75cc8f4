import { defineOperation } from '../store/operation.js';
import { readInteger } from '../store/reply-reader.js';
import type { CounterKey } from './counter-keys.js';
import { SLOT_LUA, ttlMs, windowEnd } from './counter-operations.js';

/**
 * The arguments of {@link refundOperation}.
 *
 * @example
 * ```ts
 * const args: RefundArgs = { quantity: 1, graceSeconds: 60, counters: [key] };
 * ```
 */
export interface RefundArgs {
  /** Units given back to every counter. */
  readonly quantity: number;
  /** Seconds a counter outlives its window. */
  readonly graceSeconds: number;
  /** The counters refunded. */
  readonly counters: readonly CounterKey[];
}

/**
 * Adds `quantity` to the refund counter of every quota.
 *
 * KEYS[i]: counter base of quota i.
 * ARGV: quantity, grace seconds, then per quota: window s, shift s.
 * Reply: now in microseconds.
 *
 * @example
 * ```ts
 * const nowMicros = await store.run(refundOperation, { quantity: 1, graceSeconds: 60, counters });
 * ```
 */
export const refundOperation = defineOperation<RefundArgs, number>({
  name: 'sluice_quotas_refund',
  encode({ quantity, graceSeconds, counters }, keys, argv) {
    argv.push(quantity, graceSeconds);
    for (const { base, windowSeconds, shift } of counters) {
      keys.push(base);
      argv.push(windowSeconds, shift);
    }
  },
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
  memory(state, { quantity, graceSeconds, counters }, now) {
    const t = now / 1000;
    for (const { base, windowSeconds, shift } of counters) {
      const end = windowEnd(t, windowSeconds, shift);
      state.refund(base, end * 1000, quantity, ttlMs(end, now, graceSeconds));
    }
    return Math.floor(now * 1000);
  },
  decode: (reply) => readInteger('sluice_quotas_refund', reply),
});
