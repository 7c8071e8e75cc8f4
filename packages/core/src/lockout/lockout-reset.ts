import { defineOperation } from '../store/operation.js';
import { readInteger } from '../store/reply-reader.js';
import type { LockoutKeys } from './lockout-state.js';

/**
 * Lifts a key's block and forgets its offences and refusals.
 *
 * KEYS[1]: the block hash; KEYS[2]: the refusal list (see `lockout-state.ts`).
 * ARGV: none.
 * Reply: how many of the two keys existed.
 *
 * @example
 * ```ts
 * const removed = await store.run(resetLockoutOperation, lockoutKeys(store.prefix, '42'));
 * ```
 */
export const resetLockoutOperation = defineOperation<LockoutKeys, number>({
  name: 'sluice_lockout_reset',
  encode({ block, refusals }, keys) {
    keys.push(block, refusals);
  },
  lua: `return redis.call('DEL', keys[1], keys[2])`,
  memory(state, { block, refusals }) {
    let removed = 0;
    for (const key of [block, refusals]) {
      if (state.get(key) !== undefined) {
        state.delete(key);
        removed++;
      }
    }
    return removed;
  },
  decode: (reply) => readInteger('sluice_lockout_reset', reply),
});
