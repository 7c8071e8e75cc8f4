import { resetLockoutOperation } from '../lockout/lockout-reset.js';
import { lockoutKeys } from '../lockout/lockout-state.js';
import { lockoutStatusOperation } from '../lockout/lockout-status.js';
import type { Store } from '../store/store.js';
import { printableId } from './printable-id.js';

/**
 * The period the CLI counts refusals in: all of them. The CLI does not load the app's
 * `withinSeconds`; the store keeps at most `after` refusal instants, each list expiring
 * `withinSeconds` after its newest, so this counts the refusals the store still keeps.
 */
const EVERY_KEPT_REFUSAL_MS = Number.MAX_SAFE_INTEGER;

/**
 * One key's lockout as `sluice inspect|reset` reports it: what `Lockout.inspect` answers, at
 * the Redis server's time, and for reset whether it was lifted.
 *
 * @example
 * ```ts
 * const lockout: LockoutReport = await readLockout(redis, 'sluice', '42');
 * if (lockout.blocked) console.log(`blocked for ${lockout.retryAfter} s`);
 * ```
 */
export interface LockoutReport {
  /** The lockout key: the project id, or `--key`. */
  readonly key: string;
  /** True while the key is blocked. */
  readonly blocked: boolean;
  /** Seconds the key stays blocked; 0 when it is not. */
  readonly retryAfter: number;
  /** Blocks the key has had and not yet forgotten. */
  readonly offences: number;
  /** Refusals the store keeps towards the next block (0 while blocked). */
  readonly refusals: number;
  /** reset only: true when it lifted the lockout (the state above is what it held then). */
  readonly lifted?: boolean;
}

/**
 * What the CLI does with a lockout: `show` it (inspect), `lift` it (reset), or `keep` it
 * (reset `--keep-lockout`: shown, left in place).
 */
export type LockoutAction = 'show' | 'lift' | 'keep';

/**
 * `key`'s lockout in `store` (a `RedisStore` on the CLI's connection, with the app's prefix),
 * read with the engine's own status operation: one atomic step, on Redis's clock.
 *
 * @example
 * ```ts
 * const lockout = await readLockout(new RedisStore(redis.client, { prefix: 'sluice' }), '42');
 * process.stdout.write(lockoutLine(lockout, 'show'));
 * ```
 */
export async function readLockout(store: Store, key: string): Promise<LockoutReport> {
  const status = await store.run(lockoutStatusOperation, {
    keys: lockoutKeys(store.prefix, key),
    withinMs: EVERY_KEPT_REFUSAL_MS,
  });
  return {
    key,
    blocked: status.blockedMs > 0,
    retryAfter: status.blockedMs / 1000,
    offences: status.offences,
    refusals: status.refusals,
  };
}

/**
 * Reads `key`'s lockout in `store`, then lifts it with the engine's reset operation (the
 * block, its offences and refusals): what it held, `lifted: true` when there was anything.
 * Processes that saw the block keep refusing the key until it ends by their clock (see
 * `docs/lockout.md`).
 *
 * @example
 * ```ts
 * const lockout = await liftLockout(new RedisStore(redis.client, { prefix: 'sluice' }), '42');
 * if (lockout.lifted) console.log(`lifted (${lockout.offences} offences forgotten)`);
 * ```
 */
export async function liftLockout(store: Store, key: string): Promise<LockoutReport> {
  const held = await readLockout(store, key);
  const removed = await store.run(resetLockoutOperation, lockoutKeys(store.prefix, key));
  return { ...held, lifted: removed > 0 };
}

/**
 * Does `action` with `key`'s lockout in `store` and says what it held: `show` reads it, `lift`
 * reads then lifts it ({@link liftLockout}), `keep` reads it and reports `lifted: false`.
 *
 * @example
 * ```ts
 * const lockout = await actOnLockout(store, command.key ?? command.project, 'lift');
 * ```
 */
export async function actOnLockout(
  store: Store,
  key: string,
  action: LockoutAction,
): Promise<LockoutReport> {
  if (action === 'lift') return liftLockout(store, key);
  const held = await readLockout(store, key);
  return action === 'keep' ? { ...held, lifted: false } : held;
}

/**
 * The line the table output ends with: the lockout's state, and what `action` did with it.
 *
 * @example
 * ```ts
 * lockoutLine({ key: '42', blocked: true, retryAfter: 52.3, offences: 1, refusals: 0 }, 'show');
 * // 'Lockout of 42: blocked for 53 s, 1 offence(s), 0 refusal(s) kept.\n'
 * ```
 */
export function lockoutLine(lockout: LockoutReport, action: LockoutAction): string {
  const state = lockout.blocked ? `blocked for ${Math.ceil(lockout.retryAfter)} s` : 'not blocked';
  const held = `${state}, ${lockout.offences} offence(s), ${lockout.refusals} refusal(s) kept`;
  const key = printableId(lockout.key);
  if (action === 'show') return `Lockout of ${key}: ${held}.\n`;
  if (action === 'keep') return `Lockout of ${key} left in place (--keep-lockout): ${held}.\n`;
  return lockout.lifted
    ? `Lifted the lockout of ${key} (it held: ${held}).\n`
    : `No lockout of ${key} to lift.\n`;
}
