import { defineOperation } from '../store/operation.js';
import { readInteger } from '../store/reply-reader.js';

/**
 * Clears one sliding window: every granule it holds.
 *
 * KEYS[1]: the window's key (`windowKey`).
 * Reply: 1 when the window held anything, else 0 (decoded: true when it held anything).
 *
 * @example
 * ```ts
 * const cleared = await store.run(resetWindowOperation, { key: windowKey(prefix, tag, quota) });
 * ```
 */
export const resetWindowOperation = defineOperation<{ readonly key: string }, boolean>({
  name: 'sluice_window_reset',
  encode({ key }, keys) {
    keys.push(key);
  },
  lua: `return redis.call('DEL', keys[1])`,
  memory(state, { key }) {
    const held = state.get(key) !== undefined;
    state.delete(key);
    return held ? 1 : 0;
  },
  decode: (reply) => readInteger('sluice_window_reset', reply) === 1,
});
