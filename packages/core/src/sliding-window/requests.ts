import { InvalidConfiguration } from '../errors.js';
import { isValidPrefix } from '../store/key-parts.js';
import { integerAtLeast, timestampSeconds } from '../validate.js';
import { type Quota, toQuota } from './quota.js';

/**
 * How much of which quotas one caller asks for.
 *
 * @example
 * ```ts
 * const request: RequestedQuota = { prefix: `org:${orgId}`, requested: 1, quotas: [perMinute] };
 * ```
 */
export interface RequestedQuota {
  /**
   * Names whose usage this is, e.g. `org:123`; quotas without `prefixOverride` are counted
   * under it, and it is the request's Redis Cluster hash tag. Any non-empty string without
   * `{` or `}`.
   */
  prefix: string;
  /** Units asked for: an integer of 0 or more. */
  requested: number;
  /** The windows the units must fit in, checked in this order; at least one. */
  quotas: Quota[];
}

/**
 * What a {@link RequestedQuota} was granted.
 *
 * @example
 * ```ts
 * const [grant] = await limiter.checkAndUseQuotas([request]);
 * if (grant.granted < request.requested) console.log(`retry in ${grant.retryAfter} s`);
 * ```
 */
export interface GrantedQuota {
  /** The request's prefix. */
  prefix: string;
  /** Units granted, from 0 to `requested`. */
  granted: number;
  /** The quotas that cut the grant, in the request's order: the very objects it named. */
  reachedQuotas: Quota[];
  /**
   * Set when `granted < requested`: seconds until the reached windows allow at least one more
   * unit, as granules leave them, if no one else uses them meanwhile. A window of the request
   * that this very grant filled is waited for too, since it would refuse that unit. `Infinity`
   * when a reached quota has a limit of 0.
   */
  retryAfter?: number;
}

/**
 * A request whose quotas were validated: `quotas` are {@link Quota} instances.
 *
 * @example
 * ```ts
 * const [request] = validateRequests([{ prefix: 'org:1', requested: 1, quotas }]);
 * ```
 */
export interface ValidRequest {
  readonly prefix: string;
  readonly requested: number;
  /** Resolved quotas, in the request's order. */
  readonly quotas: readonly Quota[];
  /** The objects the caller passed, in the same order, reported back in `reachedQuotas`. */
  readonly named: readonly Quota[];
}

/**
 * Validates a call's requests; rejects the call with {@link InvalidConfiguration}.
 *
 * @example
 * ```ts
 * const valid = validateRequests(requests); // throws InvalidConfiguration naming requests[i]...
 * ```
 */
export function validateRequests(requests: unknown): ValidRequest[] {
  if (!Array.isArray(requests)) {
    throw new InvalidConfiguration('requests', requests, 'an array of RequestedQuota');
  }
  return requests.map((request: unknown, i) => {
    const path = `requests[${i}]`;
    if (request === null || typeof request !== 'object') {
      throw new InvalidConfiguration(
        path,
        request,
        'a RequestedQuota { prefix, requested, quotas }',
      );
    }
    const r = request as Partial<RequestedQuota>;
    if (!isValidPrefix(r.prefix)) {
      throw new InvalidConfiguration(
        `${path}.prefix`,
        r.prefix,
        'a non-empty string without `{` or `}`',
      );
    }
    const requested = integerAtLeast(`${path}.requested`, r.requested, 0);
    if (!Array.isArray(r.quotas) || r.quotas.length === 0) {
      throw new InvalidConfiguration(`${path}.quotas`, r.quotas, 'a non-empty array of Quota');
    }
    const named = r.quotas as Quota[];
    return {
      prefix: r.prefix,
      requested,
      quotas: named.map((q, j) => toQuota(q, `${path}.quotas[${j}]`)),
      named,
    };
  });
}

/**
 * Validates that `grants` answer `requests` one to one; returns the granted units.
 *
 * @example
 * ```ts
 * const units = validateGrants(validateRequests(requests), grants); // [granted, ...]
 * ```
 */
export function validateGrants(requests: readonly ValidRequest[], grants: unknown): number[] {
  if (!Array.isArray(grants) || grants.length !== requests.length) {
    throw new InvalidConfiguration(
      'grants',
      grants,
      `an array of ${requests.length} GrantedQuota, one per request`,
    );
  }
  return requests.map((request, i) => {
    const grant = grants[i] as Partial<GrantedQuota> | null;
    if (grant === null || typeof grant !== 'object' || grant.prefix !== request.prefix) {
      throw new InvalidConfiguration(
        `grants[${i}]`,
        grant,
        `the GrantedQuota of requests[${i}] (prefix ${JSON.stringify(request.prefix)})`,
      );
    }
    const granted = integerAtLeast(`grants[${i}].granted`, grant.granted, 0);
    if (granted > request.requested) {
      throw new InvalidConfiguration(
        `grants[${i}].granted`,
        granted,
        `at most requests[${i}].requested (${request.requested})`,
      );
    }
    return granted;
  });
}

/**
 * A timestamp in seconds, in [0, 1e11), as the store's milliseconds; undefined stays undefined
 * (the store's clock). Throws {@link InvalidConfiguration} naming `timestamp` otherwise.
 *
 * @example
 * ```ts
 * timestampMs(902.5); // 902500
 * timestampMs(undefined); // undefined: the store's clock
 * ```
 */
export function timestampMs(timestamp: unknown): number | undefined {
  if (timestamp === undefined) return undefined;
  return timestampSeconds('timestamp', timestamp) * 1000;
}
