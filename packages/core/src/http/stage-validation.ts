import { InvalidConfiguration } from '../errors.js';
import { validateQuotaConfig } from '../quotas/quota-config.js';
import { toQuota } from '../sliding-window/quota.js';
import { storeOption } from '../store/store.js';
import {
  headerToken,
  integerAtLeast,
  nonNegativeNumber,
  nonNegativeSeconds,
  oneOf,
  optionalBoolean,
  optionsObject,
  positiveSeconds,
} from '../validate.js';
import { validateCardinalityOption } from './cardinality-stage.js';
import { MAX_CATEGORY_LENGTH } from './header-values.js';
import type { SluiceOptions } from './http-options.js';
import { validateLockoutOption } from './lockout-stage.js';
import {
  CONCURRENCY_OPTION_NAMES,
  SLUICE_OPTION_NAMES,
  WINDOWS_OPTION_NAMES,
} from './option-names.js';

/**
 * Checks the options of `sluice()`, `sluicePlugin` or `route()` once, at construction, and
 * throws {@link InvalidConfiguration} naming the first bad one: an unknown option (a misspelled
 * `quotas` must never mean "no limits"), a missing `resolveProject`/`identify`, or a value of
 * the wrong kind or out of range.
 *
 * @example
 * ```ts
 * validateStageOptions({ identify, mode: 'shadow' }); // fine
 * validateStageOptions({ identify, quotaz: [] } as SluiceOptions); // throws naming `quotaz`
 * ```
 */
export function validateStageOptions(options: SluiceOptions): void {
  if (options === null || typeof options !== 'object') {
    throw new InvalidConfiguration('options', options, 'an options object');
  }
  optionsObject('options', options, SLUICE_OPTION_NAMES);
  if (options.store !== undefined) storeOption('store', options.store);
  optionalFunction('resolveProject', options.resolveProject);
  optionalFunction('identify', options.identify);
  if (options.resolveProject === undefined && options.identify === undefined) {
    throw new InvalidConfiguration('resolveProject', undefined, 'a function (or pass identify)');
  }
  const { quotas, windows, concurrency } = options;
  if (Array.isArray(quotas)) {
    for (let i = 0; i < quotas.length; i++) validateQuotaConfig(quotas[i]!, `quotas[${i}]`);
  } else {
    optionalFunction('quotas', quotas);
  }
  if (windows !== undefined) validateWindows(windows);
  if (concurrency !== undefined) validateConcurrency(concurrency);
  if (options.lockout !== undefined) validateLockoutOption(options.lockout);
  if (options.cardinality !== undefined) validateCardinalityOption(options.cardinality);
  const { category } = options;
  if (
    typeof category !== 'function' &&
    category !== undefined &&
    (typeof category !== 'string' || category === '' || category.length > MAX_CATEGORY_LENGTH)
  ) {
    throw new InvalidConfiguration(
      'category',
      category,
      `a string of 1 to ${MAX_CATEGORY_LENGTH} characters or a function of the request`,
    );
  }
  if (typeof options.quantity !== 'function' && options.quantity !== undefined) {
    integerAtLeast('quantity', options.quantity, 0);
  }
  optionalFunction('items', options.items);
  optionalFunction('skip', options.skip);
  if (options.mode !== undefined) oneOf('mode', options.mode, ['enforce', 'shadow']);
  if (options.onStoreError !== undefined)
    oneOf('onStoreError', options.onStoreError, ['allow', 'deny', 'local']);
  validateLocalShare(options);
  optionalBoolean('rateLimitHeaders', options.rateLimitHeaders);
  optionalFunction('onLimited', options.onLimited);
  optionalBoolean('skipFailedRequests', options.skipFailedRequests);
  optionalBoolean('skipSuccessfulRequests', options.skipSuccessfulRequests);
  optionalFunction('requestWasSuccessful', options.requestWasSuccessful);
  if (options.graceSeconds !== undefined) nonNegativeSeconds('graceSeconds', options.graceSeconds);
  if (options.rejectionCacheMaxSeconds !== undefined)
    nonNegativeNumber('rejectionCacheMaxSeconds', options.rejectionCacheMaxSeconds);
}

/**
 * `localShare` goes with `onStoreError: 'local'`: required there, a fraction in (0, 1], and an
 * error with any other policy (it would be silently ignored).
 */
function validateLocalShare(options: SluiceOptions): void {
  const { localShare } = options;
  if (options.onStoreError !== 'local') {
    if (localShare !== undefined) {
      throw new InvalidConfiguration(
        'localShare',
        localShare,
        "no value unless onStoreError is 'local'",
      );
    }
    return;
  }
  if (
    typeof localShare !== 'number' ||
    !Number.isFinite(localShare) ||
    localShare <= 0 ||
    localShare > 1
  ) {
    throw new InvalidConfiguration(
      'localShare',
      localShare,
      "a fraction in (0, 1] with onStoreError 'local' (this process's share of each limit)",
    );
  }
}

function validateWindows(windows: NonNullable<SluiceOptions['windows']>): void {
  if (windows === null || typeof windows !== 'object')
    throw new InvalidConfiguration('windows', windows, 'an object');
  optionsObject('windows', windows, WINDOWS_OPTION_NAMES);
  if (typeof windows.prefix !== 'function')
    throw new InvalidConfiguration('windows.prefix', windows.prefix, 'a function');
  if (!Array.isArray(windows.quotas) || windows.quotas.length === 0) {
    throw new InvalidConfiguration('windows.quotas', windows.quotas, 'a non-empty array of Quota');
  }
  for (let i = 0; i < windows.quotas.length; i++)
    toQuota(windows.quotas[i], `windows.quotas[${i}]`);
  if (windows.reasonCode !== undefined) headerToken('windows.reasonCode', windows.reasonCode);
  optionalBoolean('windows.shadow', windows.shadow);
}

function validateConcurrency(concurrency: NonNullable<SluiceOptions['concurrency']>): void {
  if (concurrency === null || typeof concurrency !== 'object') {
    throw new InvalidConfiguration('concurrency', concurrency, 'an object');
  }
  optionsObject('concurrency', concurrency, CONCURRENCY_OPTION_NAMES);
  integerAtLeast('concurrency.limit', concurrency.limit, 1);
  if (concurrency.leaseSeconds !== undefined)
    positiveSeconds('concurrency.leaseSeconds', concurrency.leaseSeconds);
  if (concurrency.waitSeconds !== undefined)
    nonNegativeNumber('concurrency.waitSeconds', concurrency.waitSeconds);
  optionalFunction('concurrency.key', concurrency.key);
  optionalBoolean('concurrency.shadow', concurrency.shadow);
}

/**
 * Throws {@link InvalidConfiguration} unless `value` is absent or a function.
 *
 * @example
 * ```ts
 * optionalFunction('skip', options.skip);
 * ```
 */
export function optionalFunction(option: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'function') {
    throw new InvalidConfiguration(option, value, 'a function');
  }
}
