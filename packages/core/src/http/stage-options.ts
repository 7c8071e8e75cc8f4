import { InvalidConfiguration } from '../errors.js';
import type { Project } from '../quotas/quota-config.js';
import { validateQuotaConfig } from '../quotas/quota-config.js';
import { DEFAULT_GRACE_SECONDS } from '../quotas/quotas-options.js';
import { DEFAULT_REJECTION_CACHE_MAX_SECONDS } from '../quotas/rejection-cache.js';
import { toQuota } from '../sliding-window/quota.js';
import { type Store, storeOption } from '../store/store.js';
import {
  headerToken,
  integerAtLeast,
  nonNegativeNumber,
  nonNegativeSeconds,
  oneOf,
  optionsObject,
  positiveSeconds,
} from '../validate.js';
import { exposedHeaders } from './answers.js';
import { MAX_CATEGORY_LENGTH } from './header-values.js';
import { optionalFunction, perRequest, type SluiceOptions } from './http-options.js';
import type { SluiceRequest } from './http-request.js';
import {
  CONCURRENCY_OPTION_NAMES,
  SLUICE_OPTION_NAMES,
  WINDOWS_OPTION_NAMES,
} from './option-names.js';
import type { ItemReader } from './request-items.js';

/**
 * Units a request counts when `quantity` is not given.
 *
 * @example
 * ```ts
 * resolveStage({ identify }).reader.quantity(req); // DEFAULT_QUANTITY, 1
 * ```
 */
export const DEFAULT_QUANTITY = 1;

/**
 * `mode` when not given: refusals are enforced.
 *
 * @example
 * ```ts
 * resolveStage({ identify }).mode; // 'enforce'
 * ```
 */
export const DEFAULT_MODE = 'enforce';

/**
 * `onStoreError` when not given: a store failure admits the request.
 *
 * @example
 * ```ts
 * resolveStage({ identify }).onStoreError; // 'allow'
 * ```
 */
export const DEFAULT_ON_STORE_ERROR = 'allow';

/**
 * A stage's options, validated once, with every default named: what a decision reads.
 *
 * @example
 * ```ts
 * const stage: ResolvedStage = resolveStage({ identify, quotas, category: 'error' });
 * const shadow = stage.mode === 'shadow' || stage.enforce?.(project) === false;
 * ```
 */
export interface ResolvedStage {
  /** The options as given, for identification and the engines. */
  readonly options: Readonly<SluiceOptions>;
  /** The store the stage was given; undefined: the limiter's (or a new MemoryStore). */
  readonly store: Store | undefined;
  /** How the stage reads a request's items. */
  readonly reader: ItemReader;
  /** Requests for which the stage does nothing. */
  readonly skip: ((req: SluiceRequest) => boolean) | undefined;
  readonly mode: 'enforce' | 'shadow';
  /** Gradual rollout: false makes the decision shadow for that project. */
  readonly enforce: ((project: Project) => boolean) | undefined;
  readonly onStoreError: 'allow' | 'deny';
  /** Send the IETF `RateLimit` and `RateLimit-Policy` headers. */
  readonly rateLimitHeaders: boolean;
  /** Seconds a quota counter outlives its window. */
  readonly graceSeconds: number;
  /** Seconds a full quota is remembered in-process at most; 0: no rejection cache. */
  readonly rejectionCacheMaxSeconds: number;
  /** Headers of every answer: `Access-Control-Expose-Headers`. */
  readonly headers: Record<string, string>;
}

/**
 * Validates `options` once and resolves their defaults; throws {@link InvalidConfiguration}
 * naming the first bad one (an unknown option included: a misspelled `quotas` must never mean
 * "no limits").
 *
 * @example
 * ```ts
 * resolveStage({ identify, mode: 'shadow' }).mode; // 'shadow'
 * resolveStage({ identify, quotaz: [] } as SluiceOptions); // throws naming `quotaz`
 * ```
 */
export function resolveStage(options: SluiceOptions): ResolvedStage {
  if (options === null || typeof options !== 'object') {
    throw new InvalidConfiguration('options', options, 'an options object');
  }
  validateOptions(options);
  const rateLimitHeaders = options.rateLimitHeaders === true;
  return {
    options,
    store: options.store,
    reader: {
      items: options.items,
      category: perRequest(options.category, undefined),
      quantity: perRequest(options.quantity, DEFAULT_QUANTITY),
    },
    skip: options.skip,
    mode: options.mode ?? DEFAULT_MODE,
    enforce: options.enforce,
    onStoreError: options.onStoreError ?? DEFAULT_ON_STORE_ERROR,
    rateLimitHeaders,
    graceSeconds: options.graceSeconds ?? DEFAULT_GRACE_SECONDS,
    rejectionCacheMaxSeconds:
      options.rejectionCacheMaxSeconds ?? DEFAULT_REJECTION_CACHE_MAX_SECONDS,
    headers: { 'Access-Control-Expose-Headers': exposedHeaders(rateLimitHeaders) },
  };
}

function validateOptions(options: SluiceOptions): void {
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
  optionalFunction('enforce', options.enforce);
  optionalFunction('skip', options.skip);
  if (options.mode !== undefined) oneOf('mode', options.mode, ['enforce', 'shadow']);
  if (options.onStoreError !== undefined)
    oneOf('onStoreError', options.onStoreError, ['allow', 'deny']);
  if (options.rateLimitHeaders !== undefined && typeof options.rateLimitHeaders !== 'boolean') {
    throw new InvalidConfiguration('rateLimitHeaders', options.rateLimitHeaders, 'a boolean');
  }
  if (options.graceSeconds !== undefined) nonNegativeSeconds('graceSeconds', options.graceSeconds);
  if (options.rejectionCacheMaxSeconds !== undefined)
    nonNegativeNumber('rejectionCacheMaxSeconds', options.rejectionCacheMaxSeconds);
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
}
