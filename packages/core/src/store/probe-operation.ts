import { defineOperation } from './operation.js';
import { readInteger } from './reply-reader.js';

/** Milliseconds the probe's key lives: it is written only to see that a write goes through. */
const PROBE_TTL_MS = 1000;

/**
 * The cheapest round trip that proves a decision would go through: a script (so a Redis that
 * cannot run scripts fails it) that writes one short-lived key (so a Redis out of memory under
 * `noeviction`, which refuses the writes decisions make, fails it too). The key routes the call
 * to its hash slot on a Cluster and expires after a second.
 *
 * KEYS: [probe key]. ARGV: none. Reply: 1.
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
  lua: `redis.call('SET', keys[1], '1', 'PX', ${PROBE_TTL_MS})
return 1`,
  memory: (state, { key }) => {
    state.set(key, 1, PROBE_TTL_MS);
    return 1;
  },
  decode: (reply) => {
    readInteger('sluice_store_probe', reply);
    return true;
  },
});
