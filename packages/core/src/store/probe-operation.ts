import { defineOperation } from './operation.js';
import { readInteger } from './reply-reader.js';

/**
 * One round trip that touches nothing: Redis answers 1 (it runs a script, so a Redis that lost
 * its scripts or cannot run them fails the probe as a decision would), and so does memory.
 * The key only routes the call (to its hash slot on a Cluster); it is never read.
 *
 * KEYS: [routing key]. ARGV: none. Reply: 1.
 *
 * @example
 * ```ts
 * await store.run(probeOperation, { key: `${store.prefix}:probe` }); // rejects while Redis is down
 * ```
 */
export const probeOperation = defineOperation<{ key: string }, true>({
  name: 'sluice_store_probe',
  encode: ({ key }, keys) => {
    keys.push(key);
  },
  lua: 'return 1',
  memory: () => 1,
  decode: (reply) => {
    readInteger('sluice_store_probe', reply);
    return true;
  },
});
