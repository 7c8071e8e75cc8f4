import { InvalidConfiguration } from '../errors.js';
import { timestampMs } from '../sliding-window/requests.js';
import { type Store, storeOption } from '../store/store.js';
import { optionsObject } from '../validate.js';
import { LocalBlocks, MAX_LOCAL_BLOCKS } from './local-blocks.js';
import {
  type LockoutOptions,
  type ResolvedLockoutOptions,
  resolveLockoutOptions,
} from './lockout-options.js';
import { recordRefusalOperation } from './lockout-record.js';
import { resetLockoutOperation } from './lockout-reset.js';
import { type LockoutKeys, lockoutKeys } from './lockout-state.js';
import { lockoutStatusOperation } from './lockout-status.js';

/** Longest lockout key, in characters. */
const MAX_KEY_LENGTH = 1024;

/**
 * A key's lockout, as {@link Lockout} answers it.
 *
 * @example
 * ```ts
 * const state: LockoutState = await lockout.recordRefusal('client:203.0.113.7');
 * if (state.blocked) console.log(`blocked for ${state.retryAfter} s (offence ${state.offences})`);
 * ```
 */
export interface LockoutState {
  /** True while the key is blocked. */
  readonly blocked: boolean;
  /** Seconds the key stays blocked; 0 when it is not. */
  readonly retryAfter: number;
  /** Blocks the key has had and not yet forgotten (the current one included). */
  readonly offences: number;
  /** Refusals counted towards the next block (0 while blocked). */
  readonly refusals: number;
  /** True when this very call started the block (only `recordRefusal` starts one). */
  readonly started: boolean;
}

/**
 * Options of one call.
 *
 * @example
 * ```ts
 * await lockout.recordRefusal('user:42', { timestamp: Date.now() / 1000 });
 * ```
 */
export interface LockoutCallOptions {
  /** Decision time, seconds since the epoch. @default the store's clock (Redis `TIME`) */
  timestamp?: number;
}

/**
 * Lockout with backoff: after `after` refusals of a key within `withinSeconds`, the key is
 * blocked outright for `blockSeconds`, each repeat offence `backoff` times longer (capped by
 * `maxBlockSeconds`), until `forgetSeconds` after a block without a new one. The store holds
 * the state, so every process honours a block; each process also remembers a block it has
 * seen until the block ends, so a blocked key costs that process no store call.
 *
 * Denial is a value: {@link LockoutState}. Each call is one atomic store step.
 *
 * @example
 * ```ts
 * const lockout = new Lockout(store, { after: 5, withinSeconds: 60, blockSeconds: 30, backoff: 2 });
 * if ((await lockout.blocked(ip)) > 0) return tooManyRequests();
 * if (!(await checkPassword(user, password))) await lockout.recordRefusal(ip);
 * ```
 */
export class Lockout {
  /** Where the lockouts live. */
  readonly store: Store;
  /** The options, validated, in milliseconds. */
  readonly options: ResolvedLockoutOptions;
  readonly #local: LocalBlocks;

  constructor(store: Store, options: LockoutOptions) {
    this.store = storeOption('store', store);
    this.options = resolveLockoutOptions(options);
    // A memory store's clock decides there: this process's memory of a block follows it.
    const clock = (store as { clock?: unknown }).clock;
    this.#local = new LocalBlocks(
      typeof clock === 'function' ? (clock as () => number) : Date.now,
      MAX_LOCAL_BLOCKS,
    );
  }

  /**
   * Counts one refusal of `key` and, when it is the `after`-th within the period, blocks the
   * key. A key already blocked counts nothing: the answer says for how long it still is.
   *
   * @example
   * ```ts
   * const state = await lockout.recordRefusal('user:42');
   * if (state.started) log.warn(`user 42 locked out for ${state.retryAfter} s`);
   * ```
   */
  async recordRefusal(key: string, call: LockoutCallOptions = {}): Promise<LockoutState> {
    const keys = this.#keys(key);
    const atMs = callTime(call);
    const recorded = await this.store.run(
      recordRefusalOperation,
      { keys, options: this.options },
      atMs,
    );
    if (recorded.blockedMs > 0) this.#local.remember(key, recorded.blockedMs, atMs);
    return stateOf(recorded, recorded.started);
  }

  /**
   * Seconds `key` stays blocked (0: not blocked). A block this process has seen is answered
   * from its memory, without a store call; otherwise the store is asked.
   *
   * @example
   * ```ts
   * const seconds = await lockout.blocked('user:42');
   * if (seconds > 0) return refuse({ retryAfter: seconds });
   * ```
   */
  async blocked(key: string, call: LockoutCallOptions = {}): Promise<number> {
    const atMs = callTime(call);
    const known = this.#local.remainingMs(key, atMs);
    if (known > 0) return known / 1000;
    return (await this.inspect(key, call)).retryAfter;
  }

  /**
   * Seconds `key` stays blocked as this process remembers it, without a store call (0: no block
   * remembered, which does not mean the store holds none).
   *
   * @example
   * ```ts
   * const fromMemory = lockout.remembered('user:42') > 0;
   * ```
   */
  remembered(key: string): number {
    return this.#local.remainingMs(key) / 1000;
  }

  /**
   * `key`'s lockout as the store holds it (always a store call), for tools and tests.
   *
   * @example
   * ```ts
   * const { blocked, offences, refusals } = await lockout.inspect('user:42');
   * ```
   */
  async inspect(key: string, call: LockoutCallOptions = {}): Promise<LockoutState> {
    const keys = this.#keys(key);
    const atMs = callTime(call);
    const status = await this.store.run(
      lockoutStatusOperation,
      { keys, withinMs: this.options.withinMs },
      atMs,
    );
    if (status.blockedMs > 0) this.#local.remember(key, status.blockedMs, atMs);
    return stateOf(status, false);
  }

  /**
   * Lifts `key`'s block and forgets its offences and refusals, in the store and in this
   * process's memory; resolves to true when there was something to forget. Other processes
   * that saw the block keep it in memory until it ends (see `docs/lockout.md`).
   *
   * @example
   * ```ts
   * await lockout.reset('user:42'); // the user may try again at once
   * ```
   */
  async reset(key: string): Promise<boolean> {
    const keys = this.#keys(key);
    this.#local.forget(key);
    return (await this.store.run(resetLockoutOperation, keys)) > 0;
  }

  #keys(key: string): LockoutKeys {
    if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) {
      throw new InvalidConfiguration('key', key, `a string of 1 to ${MAX_KEY_LENGTH} characters`);
    }
    return lockoutKeys(this.store.prefix, key);
  }
}

/** The decision time of a call's options, in ms (undefined: the store's clock). */
function callTime(call: LockoutCallOptions): number | undefined {
  return timestampMs(optionsObject('options', call, ['timestamp']).timestamp);
}

/** A store step's reply about a key, as the {@link LockoutState} callers read. */
function stateOf(
  reply: { readonly blockedMs: number; readonly offences: number; readonly refusals: number },
  started: boolean,
): LockoutState {
  const { blockedMs, offences, refusals } = reply;
  return { blocked: blockedMs > 0, retryAfter: blockedMs / 1000, offences, refusals, started };
}
