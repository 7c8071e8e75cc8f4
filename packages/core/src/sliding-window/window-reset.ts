import type { StoreOperation } from '../store/store.js';

/**
 * Clears one sliding window: every granule it holds.
 *
 * KEYS[1]: the window's key (`windowKey`).
 * Reply: 1 when the window held anything, else 0.
 *
 * @example
 * ```ts
 * const cleared = await store.run(resetWindowOperation, { keys: [windowKey(prefix, tag, quota)], args: [] });
 * ```
 */
export const resetWindowOperation: StoreOperation = {
  name: 'sluice_window_reset',
  lua: `return redis.call('DEL', keys[1])`,
  memory(state, keys) {
    const held = state.get(keys[0]!) !== undefined;
    state.delete(keys[0]!);
    return held ? 1 : 0;
  },
};
