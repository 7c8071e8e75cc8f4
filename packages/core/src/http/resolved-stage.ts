import type { Project } from '../quotas/quota-config.js';
import { DEFAULT_GRACE_SECONDS } from '../quotas/quotas-options.js';
import { DEFAULT_REJECTION_CACHE_MAX_SECONDS } from '../quotas/rejection-cache.js';
import type { Store } from '../store/store.js';
import { exposedHeaders } from './answers.js';
import type { PerRequest, SluiceOptions } from './http-options.js';
import type { SluiceRequest } from './http-request.js';
import { type RefusalShape, resolveRefusalShape } from './limited-answer.js';
import { type OutcomeCounting, resolveOutcomeCounting } from './outcome-counting.js';
import type { ItemReader } from './request-items.js';
import { enforcePredicate } from './rollout.js';
import { validateStageOptions } from './stage-validation.js';

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
  readonly onStoreError: 'allow' | 'deny' | 'local';
  /** With `onStoreError: 'local'`: this process's share of each limit; undefined otherwise. */
  readonly localShare: number | undefined;
  /** Send the IETF `RateLimit` and `RateLimit-Policy` headers. */
  readonly rateLimitHeaders: boolean;
  /** Seconds a quota counter outlives its window. */
  readonly graceSeconds: number;
  /** Seconds a full quota is remembered in-process at most; 0: no rejection cache. */
  readonly rejectionCacheMaxSeconds: number;
  /** Headers of every answer: `Access-Control-Expose-Headers`. */
  readonly headers: Record<string, string>;
  /** How a refusal is answered: status, body, the app's `onLimited`. */
  readonly refusal: RefusalShape;
  /** Which admitted requests give their counts back by outcome; undefined: none. */
  readonly counting: OutcomeCounting | undefined;
}

/**
 * Validates `options` once ({@link validateStageOptions}) and resolves their defaults.
 *
 * @example
 * ```ts
 * resolveStage({ identify, mode: 'shadow' }).mode; // 'shadow'
 * resolveStage({ identify, quotaz: [] } as SluiceOptions); // throws naming `quotaz`
 * ```
 */
export function resolveStage(options: SluiceOptions): ResolvedStage {
  validateStageOptions(options);
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
    enforce: enforcePredicate(options.enforce),
    onStoreError: options.onStoreError ?? DEFAULT_ON_STORE_ERROR,
    localShare: options.localShare,
    rateLimitHeaders,
    graceSeconds: options.graceSeconds ?? DEFAULT_GRACE_SECONDS,
    rejectionCacheMaxSeconds:
      options.rejectionCacheMaxSeconds ?? DEFAULT_REJECTION_CACHE_MAX_SECONDS,
    headers: { 'Access-Control-Expose-Headers': exposedHeaders(rateLimitHeaders) },
    refusal: resolveRefusalShape(options),
    counting: resolveOutcomeCounting(options),
  };
}

/**
 * A {@link PerRequest} option as a function of the request: the option's own, or one that
 * gives the value (`fallback` when absent).
 *
 * @example
 * ```ts
 * perRequest<number>(undefined, DEFAULT_QUANTITY)(req); // 1
 * ```
 */
export function perRequest<T>(
  value: PerRequest<T> | undefined,
  fallback: T,
): (req: SluiceRequest) => T {
  if (typeof value === 'function') return value as (req: SluiceRequest) => T;
  const constant = value === undefined ? fallback : value;
  return () => constant;
}
