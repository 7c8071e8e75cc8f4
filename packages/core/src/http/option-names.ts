// The option names the HTTP layer knows; `optionsObject` (validate.ts) rejects any other.
import type { ConcurrencyOptions, SluiceOptions, WindowsOptions } from './http-options.js';

/** Every option of `sluice()`, `sluicePlugin` and `route()`: any other name is a mistake. */
export const SLUICE_OPTION_NAMES: readonly (keyof SluiceOptions)[] = [
  'store',
  'resolveProject',
  'identify',
  'quotas',
  'windows',
  'concurrency',
  'category',
  'quantity',
  'items',
  'mode',
  'enforce',
  'onStoreError',
  'rateLimitHeaders',
  'skip',
  'graceSeconds',
  'rejectionCacheMaxSeconds',
];

/** The options of `windows`. */
export const WINDOWS_OPTION_NAMES: readonly (keyof WindowsOptions)[] = [
  'prefix',
  'quotas',
  'reasonCode',
];

/** The options of `concurrency`. */
export const CONCURRENCY_OPTION_NAMES: readonly (keyof ConcurrencyOptions)[] = [
  'limit',
  'key',
  'leaseSeconds',
  'waitSeconds',
];
