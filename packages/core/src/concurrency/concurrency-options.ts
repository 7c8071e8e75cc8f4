import { InvalidConfiguration } from '../errors.js';
import { type Store, storeOption } from '../store/store.js';
import {
  integerAtLeast,
  MAX_TIMER_MS,
  optionalBoolean,
  optionsObject,
  positiveSeconds,
} from '../validate.js';

/**
 * Default lease length: a holder that never releases frees its slot after 5 minutes.
 *
 * @example
 * ```ts
 * new ConcurrencyLimiter(store, { limit: 5, leaseSeconds: DEFAULT_LEASE_SECONDS * 2 });
 * ```
 */
export const DEFAULT_LEASE_SECONDS = 300;
/**
 * Default wait for a slot: none, `acquire` answers at once.
 *
 * @example
 * ```ts
 * const waits = limiter.waitSeconds !== DEFAULT_WAIT_SECONDS;
 * ```
 */
export const DEFAULT_WAIT_SECONDS = 0;
/**
 * Default longest pause between two attempts of a waiting `acquire` (jittered).
 *
 * @example
 * ```ts
 * new ConcurrencyLimiter(store, { limit: 5, retryIntervalSeconds: DEFAULT_RETRY_INTERVAL_SECONDS / 4 });
 * ```
 */
export const DEFAULT_RETRY_INTERVAL_SECONDS = 1;
/** Shortest lease, so a lease is at least one whole millisecond of the store's clock. */
const MIN_LEASE_SECONDS = 0.001;
/** Longest pause between attempts: the longest delay a Node timer honours. */
const MAX_RETRY_INTERVAL_SECONDS = MAX_TIMER_MS / 1000;
/** The options a `ConcurrencyLimiter` knows; any other is an error. */
const KNOWN: readonly (keyof ConcurrencyLimiterOptions)[] = [
  'limit',
  'leaseSeconds',
  'waitSeconds',
  'retryIntervalSeconds',
  'autoExtend',
];

/**
 * Options of {@link ConcurrencyLimiter}.
 *
 * @example
 * ```ts
 * const options: ConcurrencyLimiterOptions = { limit: 50, leaseSeconds: 300, waitSeconds: 60 };
 * ```
 */
export interface ConcurrencyLimiterOptions {
  /** Most live leases per key: an integer of 1 or more. */
  limit: number;
  /**
   * Seconds a lease lasts unless released or extended; a crashed holder's slot comes back after
   * this long. At least `retryIntervalSeconds` and 0.001, at most 1e9.
   * @default 300
   */
  leaseSeconds?: number;
  /**
   * Seconds `acquire` and `run` wait for a slot before giving up; 0 answers at once, `Infinity`
   * waits until the call's `signal` aborts.
   * @default 0
   */
  waitSeconds?: number;
  /**
   * Longest pause, in seconds, between two attempts of a waiting call. Pauses start at an eighth
   * of it and double up to it, each jittered, so waiters never spin the store. A release in this
   * process wakes one local waiter at once. At most 2147483.647 (Node's longest timer).
   * @default 1
   */
  retryIntervalSeconds?: number;
  /**
   * Whether `run` extends its lease every third of `leaseSeconds` (at most every 2^31 - 1 ms,
   * Node's longest timer) while `fn` runs, for jobs that may outlast a lease. Overridable per
   * `run` call.
   * @default false
   */
  autoExtend?: boolean;
}

/**
 * Options of one {@link ConcurrencyLimiter.acquire} call.
 *
 * @example
 * ```ts
 * const lease = await limiter.acquire('snuba', { waitSeconds: 5, signal: AbortSignal.timeout(2000) });
 * ```
 */
export interface AcquireOptions {
  /** Seconds to wait for a slot (0: answer at once, `Infinity`: until `signal`). @default the limiter's */
  waitSeconds?: number;
  /** Ends the wait at once; the call then resolves `null`. */
  signal?: AbortSignal;
}

/**
 * Options of one {@link ConcurrencyLimiter.run} call.
 *
 * @example
 * ```ts
 * await limiter.run('reports', buildReport, { waitSeconds: 30, autoExtend: true });
 * ```
 */
export interface RunOptions extends AcquireOptions {
  /** Extend the lease every third of `leaseSeconds` while `fn` runs. @default the limiter's */
  autoExtend?: boolean;
}

/**
 * What {@link ConcurrencyLimiter.run} resolves to: the function's value, or `acquired: false`
 * when no slot came and the function was not called.
 *
 * @example
 * ```ts
 * const result: RunResult<number> = await limiter.run('k', async () => 42);
 * if (result.acquired) console.log(result.value);
 * ```
 */
export type RunResult<T> = { acquired: true; value: T } | { acquired: false };

/**
 * Whether `run` extends its lease while its function runs, unless the call says otherwise.
 *
 * @example
 * ```ts
 * new ConcurrencyLimiter(store, { limit: 5, autoExtend: !DEFAULT_AUTO_EXTEND });
 * ```
 */
export const DEFAULT_AUTO_EXTEND = false;

/**
 * The store and options as the limiter uses them: validated, with defaults, in milliseconds.
 *
 * @example
 * ```ts
 * const { limit, leaseMs } = resolveConcurrencyLimiterOptions(store, { limit: 5, leaseSeconds: 60 }); // 5, 60000
 * ```
 */
export interface ResolvedConcurrencyLimiterOptions {
  /** Where the leases live. */
  readonly store: Store;
  readonly limit: number;
  readonly leaseMs: number;
  readonly waitMs: number;
  readonly retryIntervalMs: number;
  readonly autoExtend: boolean;
  /** How often `run` extends a lease when it auto-extends: a third of the lease, at most {@link MAX_TIMER_MS}. */
  readonly extendEveryMs: number;
}

/**
 * Validates the constructor's store and options once and resolves their defaults; throws
 * {@link InvalidConfiguration} naming the first bad one (the store first).
 *
 * @example
 * ```ts
 * resolveConcurrencyLimiterOptions(store, { limit: 0 }); // throws InvalidConfiguration naming `limit`
 * ```
 */
export function resolveConcurrencyLimiterOptions(
  store: Store,
  options: ConcurrencyLimiterOptions,
): ResolvedConcurrencyLimiterOptions {
  const validStore = storeOption('store', store);
  if (options === undefined) {
    throw new InvalidConfiguration('options', options, 'an options object with a `limit`');
  }
  const o = optionsObject('options', options, KNOWN);
  const limit = integerAtLeast('limit', o.limit, 1);
  const leaseSeconds = positiveSeconds('leaseSeconds', o.leaseSeconds ?? DEFAULT_LEASE_SECONDS);
  if (leaseSeconds < MIN_LEASE_SECONDS) {
    throw new InvalidConfiguration('leaseSeconds', leaseSeconds, 'at least 0.001 seconds');
  }
  const retryIntervalSeconds = positiveSeconds(
    'retryIntervalSeconds',
    o.retryIntervalSeconds ?? DEFAULT_RETRY_INTERVAL_SECONDS,
    MAX_RETRY_INTERVAL_SECONDS,
  );
  if (leaseSeconds < retryIntervalSeconds) {
    throw new InvalidConfiguration(
      'leaseSeconds',
      leaseSeconds,
      `at least retryIntervalSeconds (${retryIntervalSeconds}), or waiters could miss every free slot`,
    );
  }
  const leaseMs = Math.round(leaseSeconds * 1000);
  return {
    store: validStore,
    limit,
    leaseMs,
    waitMs: waitMs('waitSeconds', o.waitSeconds ?? DEFAULT_WAIT_SECONDS),
    retryIntervalMs: retryIntervalSeconds * 1000,
    autoExtend: optionalBoolean('autoExtend', o.autoExtend) ?? DEFAULT_AUTO_EXTEND,
    extendEveryMs: Math.min(leaseMs / 3, MAX_TIMER_MS),
  };
}

/**
 * Validates a wait in seconds (0, a positive number, or `Infinity`) and returns milliseconds.
 *
 * @example
 * ```ts
 * waitMs('waitSeconds', 1.5); // 1500
 * ```
 */
export function waitMs(option: string, value: unknown): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw new InvalidConfiguration(option, value, 'a number of seconds of 0 or more, or Infinity');
  }
  return value * 1000;
}

/**
 * Validates an optional abort signal.
 *
 * @example
 * ```ts
 * const signal = abortSignal('signal', opts.signal); // undefined, or the validated signal
 * ```
 */
export function abortSignal(option: string, value: unknown): AbortSignal | undefined {
  if (value === undefined) return undefined;
  const signal = value as AbortSignal | null;
  if (
    signal !== null &&
    typeof signal === 'object' &&
    typeof signal.aborted === 'boolean' &&
    typeof signal.addEventListener === 'function'
  ) {
    return signal;
  }
  throw new InvalidConfiguration(option, value, 'an AbortSignal');
}
