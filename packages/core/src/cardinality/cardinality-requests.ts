import { InvalidConfiguration } from '../errors.js';
import { type Quota, toQuota } from '../sliding-window/quota.js';
import { isValidPrefix } from '../store/key-parts.js';
import { optionsObject } from '../validate.js';

/**
 * Which values a scope wants to introduce, and the window their number must fit in.
 *
 * @example
 * ```ts
 * const request: CardinalityRequest = {
 *   prefix: `org:${orgId}`,
 *   values: ['c:transactions/duration', 'd:spans/exclusive_time'],
 *   quota: new Quota({ windowSeconds: 3600, granularitySeconds: 60, limit: 10_000 }),
 * };
 * ```
 */
export interface CardinalityRequest {
  /**
   * The scope whose distinct values are limited, e.g. `org:123`: its Redis Cluster hash tag,
   * so a scope lives in one hash slot. Any non-empty string without `{` or `}`.
   */
  prefix: string;
  /**
   * The values (metric names, user ids, release names ...), in order: each is admitted when the
   * window already tracks it, or when the window tracks fewer than `quota.limit` values. A value
   * may repeat; it is one value.
   */
  values: readonly string[];
  /**
   * At most `limit` distinct values within any `windowSeconds`, tracked in granules of
   * `granularitySeconds`. `prefixOverride` is not supported (upstream does not either).
   */
  quota: Quota;
}

/**
 * What a {@link CardinalityRequest} was granted.
 *
 * @example
 * ```ts
 * const [grant] = await limiter.checkAndUseQuotas([request]);
 * for (const value of grant.refusedValues) dropMetric(value);
 * if (grant.retryAfter !== undefined) console.log(`a new value fits in ${grant.retryAfter} s`);
 * ```
 */
export interface CardinalityGrant {
  /** The request's prefix. */
  prefix: string;
  /** The request's values that were admitted, in order (a repeated value as often as given). */
  grantedValues: string[];
  /** The request's values that were refused: new values that did not fit, in order. */
  refusedValues: string[];
  /** Distinct values the window tracks after this request (its own admissions included). */
  cardinality: number;
  /** The request's quota, set when a value was refused: the very object it named. */
  reachedQuota?: Quota;
  /**
   * Set when a value was refused: seconds until the window tracks fewer than `limit` values, as
   * granules leave it, if no one admits a value meanwhile; `Infinity` when `limit` is 0.
   */
  retryAfter?: number;
}

/**
 * A request that passed validation, with its values' hashes.
 *
 * @example
 * ```ts
 * const [request] = validateCardinalityRequests([{ prefix: 'org:1', values: ['a'], quota }]);
 * ```
 */
export interface ValidCardinalityRequest {
  readonly prefix: string;
  readonly values: readonly string[];
  /** The quota as a {@link Quota} instance. */
  readonly quota: Quota;
  /** The object the caller passed, reported back in `reachedQuota`. */
  readonly named: Quota;
}

const REQUEST_FIELDS = ['prefix', 'values', 'quota'] as const;

/**
 * Validates a call's requests; rejects the call with {@link InvalidConfiguration} naming the
 * request and field (`requests[1].values[3]`).
 *
 * @example
 * ```ts
 * validateCardinalityRequests([{ prefix: 'org:1', values: [42], quota }]); // throws: values[0]
 * ```
 */
export function validateCardinalityRequests(requests: unknown): ValidCardinalityRequest[] {
  if (!Array.isArray(requests)) {
    throw new InvalidConfiguration('requests', requests, 'an array of CardinalityRequest');
  }
  return requests.map((request: unknown, i) => {
    const path = `requests[${i}]`;
    if (request === null || typeof request !== 'object' || Array.isArray(request)) {
      throw new InvalidConfiguration(
        path,
        request,
        'a CardinalityRequest { prefix, values, quota }',
      );
    }
    const r = optionsObject<CardinalityRequest>(path, request as CardinalityRequest, [
      ...REQUEST_FIELDS,
    ]);
    const prefix = scopePrefix(`${path}.prefix`, r.prefix);
    const values = stringArray(`${path}.values`, r.values);
    const quota = cardinalityQuota(`${path}.quota`, r.quota);
    return { prefix, values, quota, named: r.quota as Quota };
  });
}

/**
 * Validates that `grants` answer `requests` one to one, each granting only the request's own
 * values; returns the granted values per request.
 *
 * @example
 * ```ts
 * const granted = validateCardinalityGrants(valid, grants); // [['a', 'b'], ...]
 * ```
 */
export function validateCardinalityGrants(
  requests: readonly ValidCardinalityRequest[],
  grants: unknown,
): string[][] {
  if (!Array.isArray(grants) || grants.length !== requests.length) {
    throw new InvalidConfiguration(
      'grants',
      grants,
      `an array of ${requests.length} CardinalityGrant, one per request`,
    );
  }
  return requests.map((request, i) => {
    const grant = grants[i] as Partial<CardinalityGrant> | null;
    if (grant === null || typeof grant !== 'object' || grant.prefix !== request.prefix) {
      throw new InvalidConfiguration(
        `grants[${i}]`,
        grant,
        `the CardinalityGrant of requests[${i}] (prefix ${JSON.stringify(request.prefix)})`,
      );
    }
    const granted = stringArray(`grants[${i}].grantedValues`, grant.grantedValues);
    const asked = new Set(request.values);
    granted.forEach((value, j) => {
      if (!asked.has(value)) {
        throw new InvalidConfiguration(
          `grants[${i}].grantedValues[${j}]`,
          value,
          `one of requests[${i}].values`,
        );
      }
    });
    return granted;
  });
}

/**
 * A scope: a non-empty string without `{` or `}` (it becomes the key's hash tag); throws
 * {@link InvalidConfiguration} naming `option` otherwise.
 *
 * @example
 * ```ts
 * scopePrefix('prefix', 'org:1'); // 'org:1'
 * scopePrefix('requests[0].prefix', 'a{b'); // throws InvalidConfiguration
 * ```
 */
export function scopePrefix(option: string, value: unknown): string {
  if (!isValidPrefix(value)) {
    throw new InvalidConfiguration(option, value, 'a non-empty string without `{` or `}`');
  }
  return value;
}

/**
 * A cardinality quota: a {@link Quota} (or its options) without `prefixOverride`; throws
 * {@link InvalidConfiguration} naming `option` (or the field under it) otherwise.
 *
 * @example
 * ```ts
 * const quota = cardinalityQuota('quota', { windowSeconds: 3600, granularitySeconds: 60, limit: 100 });
 * ```
 */
export function cardinalityQuota(option: string, value: unknown): Quota {
  const quota = toQuota(value, option);
  if (quota.prefixOverride !== undefined) {
    throw new InvalidConfiguration(
      `${option}.prefixOverride`,
      quota.prefixOverride,
      'no prefixOverride: a cardinality quota is per scope (put a shared scope in prefix)',
    );
  }
  return quota;
}

function stringArray(option: string, value: unknown): string[] {
  if (!Array.isArray(value)) {
    throw new InvalidConfiguration(option, value, 'an array of strings');
  }
  value.forEach((item: unknown, j) => {
    if (typeof item !== 'string') {
      throw new InvalidConfiguration(`${option}[${j}]`, item, 'a string');
    }
  });
  return value as string[];
}
