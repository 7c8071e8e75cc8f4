import { windowShift } from '../quotas/window.js';
import {
  type CounterName,
  type CounterTarget,
  counterPatterns,
  isTargetCounter,
  parseCounterName,
} from './counter-names.js';
import type { RedisConnection } from './redis-connection.js';

/** Keys each SCAN step asks a node for. */
const SCAN_COUNT = 1000;

/** One window of one quota counter, as the CLI reads it from Redis. */
export interface CounterWindow {
  readonly organization: string;
  readonly quota: string;
  readonly scope: CounterName['scope'];
  /** The organization, project or key id the counter counts for ('' for a global quota). */
  readonly value: string;
  readonly windowSeconds: number;
  /** Window start and end, in Unix seconds. */
  readonly start: number;
  readonly end: number;
  /** True for the window that holds the Redis server's time. */
  readonly current: boolean;
  /** What the window counted, what was refunded, and the difference the quotas compare. */
  readonly used: number;
  readonly refunded: number;
  readonly net: number;
  /** Milliseconds until Redis drops the counter (the later of its two keys), -1 if it never does. */
  readonly expiresInMs: number;
  /** The Redis keys that hold the window: `<base>:<slot>` and `<base>:<slot>:r`. */
  readonly keys: readonly string[];
}

/** What one CLI call found: the counters' windows, at the Redis server's time. */
export interface CounterReport {
  /** Redis `TIME`, in Unix milliseconds. */
  readonly timeMs: number;
  readonly windows: readonly CounterWindow[];
}

/**
 * Every window of every counter of `target` that Redis holds, with what it holds, sorted by
 * organization, scope, quota and window start. SCANs every node (every Cluster master), so it
 * never blocks Redis the way `KEYS` would.
 *
 * @example
 * ```ts
 * const report = await readCounters(redis, { prefix: 'sluice', project: '42', organization: '7', key: undefined, includeOrganization: true, includeGlobal: false });
 * for (const w of report.windows) console.log(w.quota, w.net);
 * ```
 */
export function readCounters(
  redis: RedisConnection,
  target: CounterTarget,
): Promise<CounterReport> {
  return eachWindow(redis, target, async (keys) => {
    const values = await Promise.all(keys.map((k) => redis.client.get(k.key)));
    const ttls = await Promise.all(keys.map((k) => redis.client.pttl(k.key)));
    return { values, ttls };
  });
}

/**
 * Deletes every window of every counter of `target`, each window's two keys in one
 * `MULTI`/`EXEC` (one Cluster slot: they share the organization's hash tag), so no decision
 * ever sees a window's refunds without its count; says what each window held when deleted.
 *
 * @example
 * ```ts
 * const report = await deleteCounters(redis, { prefix: 'sluice', project: '42', organization: undefined, key: undefined, includeOrganization: false, includeGlobal: false });
 * console.log(`${report.windows.length} windows cleared`);
 * ```
 */
export function deleteCounters(
  redis: RedisConnection,
  target: CounterTarget,
): Promise<CounterReport> {
  return eachWindow(redis, target, async (keys) => {
    let transaction = redis.client.multi();
    for (const k of keys) transaction = transaction.get(k.key).pttl(k.key);
    const replies = await transaction.del(...keys.map((k) => k.key)).exec();
    if (replies === null) throw new Error('Redis aborted the reset transaction');
    const results = replies.map(([error, value]) => {
      if (error) throw error;
      return value;
    });
    return {
      values: keys.map((_, i) => countOf(results[2 * i])),
      ttls: keys.map((_, i) => ttlOf(results[2 * i + 1])),
    };
  });
}

/**
 * Finds `target`'s counters, reads Redis's time, and gives each window's keys to `visit`, which
 * reads (or reads and deletes) their values and TTLs: the report, sorted.
 */
async function eachWindow(
  redis: RedisConnection,
  target: CounterTarget,
  visit: (keys: CounterName[]) => Promise<{ values: Array<string | null>; ttls: number[] }>,
): Promise<CounterReport> {
  const names = await findCounterNames(redis, target);
  const timeMs = await serverTime(redis);
  const windows = await Promise.all(
    groupWindows(names).map(async (keys) => {
      const { values, ttls } = await visit(keys);
      return toWindow(keys, values, ttls, timeMs);
    }),
  );
  return { timeMs, windows: windows.filter((w) => w !== undefined).sort(byWindow) };
}

/** A GET reply inside the transaction: the counter's value, or null once it expired. */
function countOf(reply: unknown): string | null {
  if (reply === null || typeof reply === 'string') return reply;
  throw new Error(`Redis answered GET with ${typeof reply}, not a string`);
}

/** A PTTL reply inside the transaction: milliseconds, -1 (no expiry) or -2 (gone). */
function ttlOf(reply: unknown): number {
  if (typeof reply === 'number') return reply;
  throw new Error(`Redis answered PTTL with ${typeof reply}, not a number`);
}

async function findCounterNames(
  redis: RedisConnection,
  target: CounterTarget,
): Promise<CounterName[]> {
  const found = new Map<string, CounterName>();
  for (const pattern of counterPatterns(target)) {
    for (const node of redis.nodes) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT);
        cursor = next;
        for (const key of keys) {
          const name = parseCounterName(target.prefix, key);
          if (name !== undefined && isTargetCounter(name, target)) found.set(key, name);
        }
      } while (cursor !== '0');
    }
  }
  return [...found.values()];
}

/** The keys of each window (`<base>:<slot>` first, then `:r`), however SCAN returned them. */
function groupWindows(names: readonly CounterName[]): CounterName[][] {
  const windows = new Map<string, CounterName[]>();
  for (const name of names) {
    const base = name.refunded ? name.key.slice(0, -2) : name.key;
    const keys = windows.get(base);
    if (keys === undefined) windows.set(base, [name]);
    else if (name.refunded) keys.push(name);
    else keys.unshift(name);
  }
  return [...windows.values()];
}

async function serverTime(redis: RedisConnection): Promise<number> {
  const [seconds, micros] = await redis.nodes[0]!.time();
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}

function toWindow(
  keys: readonly CounterName[],
  values: ReadonlyArray<string | null>,
  ttls: readonly number[],
  timeMs: number,
): CounterWindow | undefined {
  let used = 0;
  let refunded = 0;
  let expiresInMs = -2;
  keys.forEach((name, i) => {
    const value = values[i];
    if (value === null || value === undefined) return; // expired between SCAN and GET
    if (name.refunded) refunded += Number(value);
    else used += Number(value);
    const ttl = ttls[i]!;
    expiresInMs = ttl === -1 || expiresInMs === -1 ? -1 : Math.max(expiresInMs, ttl);
  });
  if (expiresInMs === -2) return undefined;
  const { organization, quota, scope, value, windowSeconds, slot } = keys[0]!;
  // Global quotas' windows are aligned on the epoch; the others are shifted per organization.
  const shift = scope === 'global' ? 0 : windowShift(organization, windowSeconds);
  const start = slot * windowSeconds + shift;
  const end = start + windowSeconds;
  const now = timeMs / 1000;
  return {
    organization,
    quota,
    scope,
    value,
    windowSeconds,
    start,
    end,
    current: start <= now && now < end,
    used,
    refunded,
    net: used - refunded,
    expiresInMs,
    keys: keys.map((k) => k.key),
  };
}

const SCOPE_ORDER = { global: -1, organization: 0, project: 1, key: 2 } as const;

function byWindow(a: CounterWindow, b: CounterWindow): number {
  return (
    a.organization.localeCompare(b.organization) ||
    SCOPE_ORDER[a.scope] - SCOPE_ORDER[b.scope] ||
    a.quota.localeCompare(b.quota) ||
    a.windowSeconds - b.windowSeconds ||
    a.start - b.start
  );
}
