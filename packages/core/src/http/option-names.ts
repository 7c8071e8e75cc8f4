import { LOCKOUT_ENGINE_OPTION_NAMES } from '../lockout/lockout-options.js';
// The option names the HTTP layer knows; `optionsObject` (validate.ts) rejects any other.
import type {
  CardinalityHttpOptions,
  ConcurrencyOptions,
  LockoutHttpOptions,
  SluiceOptions,
  WindowsOptions,
} from './http-options.js';

/**
 * Every option of `sluice()`, `sluicePlugin` and `route()`: any other name is a mistake.
 * `docs/http-options.md` has a heading for each (a test checks it).
 *
 * @example
 * ```ts
 * const unknown = Object.keys(options).filter((name) => !SLUICE_OPTION_NAMES.includes(name as never));
 * ```
 */
export const SLUICE_OPTION_NAMES: readonly (keyof SluiceOptions)[] = [
  'store',
  'resolveProject',
  'identify',
  'quotas',
  'windows',
  'concurrency',
  'lockout',
  'cardinality',
  'category',
  'quantity',
  'items',
  'mode',
  'enforce',
  'onStoreError',
  'localShare',
  'rateLimitHeaders',
  'skip',
  'graceSeconds',
  'rejectionCacheMaxSeconds',
  'limitedStatus',
  'limitedBody',
  'onLimited',
  'skipFailedRequests',
  'skipSuccessfulRequests',
  'requestWasSuccessful',
];

/**
 * The options of `windows`.
 *
 * @example
 * ```ts
 * WINDOWS_OPTION_NAMES.includes('prefix'); // true
 * ```
 */
export const WINDOWS_OPTION_NAMES: readonly (keyof WindowsOptions)[] = [
  'prefix',
  'quotas',
  'reasonCode',
  'shadow',
];

/**
 * The options of `concurrency`.
 *
 * @example
 * ```ts
 * CONCURRENCY_OPTION_NAMES.includes('leaseSeconds'); // true
 * ```
 */
export const CONCURRENCY_OPTION_NAMES: readonly (keyof ConcurrencyOptions)[] = [
  'limit',
  'key',
  'leaseSeconds',
  'waitSeconds',
  'shadow',
];

/**
 * The options of `lockout` that are the HTTP layer's own (the rest are the `Lockout`
 * engine's, {@link LOCKOUT_ENGINE_OPTION_NAMES}).
 *
 * @example
 * ```ts
 * LOCKOUT_HTTP_OPTION_NAMES.includes('key'); // true
 * ```
 */
export const LOCKOUT_HTTP_OPTION_NAMES = ['key', 'reasonCode', 'shadow'] as const;

/**
 * The options of `lockout`.
 *
 * @example
 * ```ts
 * LOCKOUT_OPTION_NAMES.includes('blockSeconds'); // true
 * ```
 */
export const LOCKOUT_OPTION_NAMES: readonly (keyof LockoutHttpOptions)[] = [
  ...LOCKOUT_ENGINE_OPTION_NAMES,
  ...LOCKOUT_HTTP_OPTION_NAMES,
];

/**
 * The options of `cardinality`.
 *
 * @example
 * ```ts
 * CARDINALITY_OPTION_NAMES.includes('values'); // true
 * ```
 */
export const CARDINALITY_OPTION_NAMES: readonly (keyof CardinalityHttpOptions)[] = [
  'scope',
  'values',
  'quota',
  'reasonCode',
  'shadow',
];
