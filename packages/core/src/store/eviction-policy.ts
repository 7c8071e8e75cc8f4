import type { ScriptClient } from './script-client.js';

/** Code of the process warning emitted when Redis may evict sluice's keys. */
export const EVICTING_REDIS_WARNING = 'SLUICE_EVICTING_REDIS';

/** How long the background read of the memory policy may take, retries included. */
export const MEMORY_POLICY_READ_MS = 2000;

/** Redis's memory limit and what it does when the limit is reached, from `INFO memory`. */
export interface MemoryPolicy {
  /** `maxmemory` in bytes; 0 is no limit. */
  readonly maxmemoryBytes: number;
  /** `maxmemory-policy`, e.g. `noeviction`, `allkeys-lru`, `volatile-ttl`. */
  readonly policy: string;
  /**
   * True when Redis may delete sluice's keys to make room: a memory limit is set and the policy
   * evicts. Every key sluice writes has a TTL, so the `volatile-*` policies can evict them as
   * well as the `allkeys-*` ones; only `noeviction` keeps them (and answers OOM errors instead).
   */
  readonly evicts: boolean;
}

// INFO works inside a script, and where CONFIG is disabled (managed Redis); EVAL is the one
// command every client sluice runs on is adapted to send.
const READ_INFO = "return redis.call('INFO', 'memory')";

/**
 * Reads Redis's memory policy with `INFO memory`, retrying while the client is not connected
 * yet, for at most `withinMs`. Never rejects: resolves `undefined` when Redis did not tell in
 * time (on a Cluster it asks one node, which is the policy of every node in a consistently
 * configured cluster).
 *
 * @example
 * ```ts
 * const policy = await readMemoryPolicy(new Redis(url));
 * if (policy?.evicts) console.warn(`Redis evicts keys under ${policy.policy}`);
 * ```
 */
export function readMemoryPolicy(
  client: ScriptClient,
  withinMs = MEMORY_POLICY_READ_MS,
): Promise<MemoryPolicy | undefined> {
  return new Promise((resolve) => {
    const deadline = Date.now() + withinMs;
    let done = false;
    const finish = (policy: MemoryPolicy | undefined) => {
      if (done) return;
      done = true;
      clearTimeout(giveUp);
      resolve(policy);
    };
    const giveUp = setTimeout(() => finish(undefined), withinMs);
    giveUp.unref();
    const attempt = () => {
      client.eval(READ_INFO, 0).then(
        (info) => finish(parseMemoryPolicy(String(info))),
        () => {
          if (done || Date.now() + 100 > deadline) return;
          setTimeout(attempt, 100).unref();
        },
      );
    };
    attempt();
  });
}

/**
 * The {@link MemoryPolicy} in the text of `INFO memory`, or undefined when it lacks the fields.
 *
 * @example
 * ```ts
 * parseMemoryPolicy('maxmemory:4194304\r\nmaxmemory_policy:allkeys-lru\r\n');
 * // { maxmemoryBytes: 4194304, policy: 'allkeys-lru', evicts: true }
 * ```
 */
export function parseMemoryPolicy(info: string): MemoryPolicy | undefined {
  const maxmemory = /^maxmemory:(\d+)/m.exec(info)?.[1];
  const policy = /^maxmemory_policy:(\S+)/m.exec(info)?.[1];
  if (maxmemory === undefined || policy === undefined) return undefined;
  const maxmemoryBytes = Number(maxmemory);
  return { maxmemoryBytes, policy, evicts: maxmemoryBytes > 0 && policy !== 'noeviction' };
}

const warned = new WeakSet<object>();

/**
 * Emits the process warning {@link EVICTING_REDIS_WARNING} once per client when `policy` can
 * evict sluice's keys: evicted counters forget what they counted, so a project over its quota is
 * admitted again.
 *
 * @example
 * ```ts
 * process.on('warning', (w) => { if (w.code === 'SLUICE_EVICTING_REDIS') log(w.message); });
 * warnIfEvicting(client, await readMemoryPolicy(client));
 * ```
 */
export function warnIfEvicting(client: object, policy: MemoryPolicy | undefined): void {
  if (policy === undefined || !policy.evicts || warned.has(client)) return;
  warned.add(client);
  process.emitWarning(
    `Redis runs with maxmemory-policy ${policy.policy} and maxmemory ${policy.maxmemoryBytes} bytes: ` +
      "when memory is full it deletes sluice's counters, and projects are admitted again for " +
      'what they had used. Use noeviction (or a Redis of its own for sluice); see docs/redis.md.',
    { code: EVICTING_REDIS_WARNING },
  );
}
