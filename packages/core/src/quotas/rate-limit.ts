import type { QuotaConfig } from './quota-config.js';

/**
 * One exceeded limit, as `X-Sentry-Rate-Limits` lists it: a quota of `RateLimit.limits`, and
 * over HTTP also a refusing sliding window or concurrency limit.
 *
 * @example
 * ```ts
 * const limit: ExceededLimit = { retryAfter: 42, categories: ['error'], scope: 'project', reasonCode: 'project_quota' };
 * formatRateLimits([limit]); // '42:error:project:project_quota'
 * ```
 */
export interface ExceededLimit {
  /** Seconds until the limit lets the categories in again (this quota's next window start). */
  readonly retryAfter: number;
  /** Data categories it covers; empty: all. */
  readonly categories: readonly string[];
  /** `organization`, `project`, `key` or `global`. */
  readonly scope: string;
  /** Machine-readable reason, e.g. `project_quota`; set on every limit sluice reports. */
  readonly reasonCode?: string;
}

/** What is left of an enforced quota, for the IETF `RateLimit` headers and the rejection cache. */
export interface QuotaRemaining {
  /** The quota's id. */
  id: string;
  /** The quota's limit per window. */
  limit: number;
  /** Units left in the current window after this decision. */
  remaining: number;
  /** The quota's window length. */
  windowSeconds: number;
  /** Seconds until the window resets. */
  resetAfter: number;
  /** True when the quota was already used up before this request (not refused only for its size). */
  full: boolean;
}

/** What {@link RateLimit} is built from. */
export interface RateLimitInit {
  /** Seconds until the request may be retried. */
  retryAfter?: number;
  /** Human-readable description of why the request was limited. */
  reason?: string;
  /** Machine-readable reason, e.g. `project_quota` or `org_quota`. */
  reasonCode?: string;
  /** Every exceeded quota. */
  limits?: ExceededLimit[];
  /** The enforced quota with the fewest units left (absent when no enforced quota applied). */
  tightest?: QuotaRemaining;
  /** Every enforced quota that applied, in the order of `getQuotas`. */
  quotas?: QuotaRemaining[];
  /** The `shadow` quotas that would have refused the request had they been enforced. */
  shadowLimits?: ExceededLimit[];
}

/** The answer of `Quotas.isRateLimited`: a value, never an exception. */
export class RateLimit {
  /** True when the request must be refused. */
  readonly isLimited: boolean;
  /** Seconds until the request may be retried (the worst case over the exceeded quotas). */
  readonly retryAfter?: number;
  /** Human-readable description of why the request was limited. */
  readonly reason?: string;
  /** Machine-readable reason of the quota that sets `retryAfter`. */
  readonly reasonCode?: string;
  /** Every exceeded quota, for `X-Sentry-Rate-Limits`. */
  readonly limits?: ExceededLimit[];
  /** The enforced quota with the fewest units left, for the IETF `RateLimit` headers. */
  readonly tightest?: QuotaRemaining;
  /** Every enforced quota that applied (from the rejection cache: the full ones it remembers). */
  readonly quotas?: QuotaRemaining[];
  /** The `shadow` quotas that would have refused the request had they been enforced. */
  readonly shadowLimits?: ExceededLimit[];

  constructor(isLimited: boolean, init: RateLimitInit = {}) {
    this.isLimited = isLimited;
    if (init.retryAfter !== undefined) this.retryAfter = init.retryAfter;
    if (init.reason !== undefined) this.reason = init.reason;
    if (init.reasonCode !== undefined) this.reasonCode = init.reasonCode;
    if (init.limits !== undefined) this.limits = init.limits;
    if (init.tightest !== undefined) this.tightest = init.tightest;
    if (init.quotas !== undefined) this.quotas = init.quotas;
    if (init.shadowLimits !== undefined) this.shadowLimits = init.shadowLimits;
  }
}

/** A refusal: `isLimited` is true. */
export class RateLimited extends RateLimit {
  constructor(init: RateLimitInit = {}) {
    super(true, init);
  }
}

/** An admission: `isLimited` is false. */
export class NotRateLimited extends RateLimit {
  constructor(init: RateLimitInit = {}) {
    super(false, init);
  }
}

/**
 * The {@link ExceededLimit} of `quota`, retried after `retryAfter` seconds.
 *
 * @example
 * ```ts
 * describeLimit({ id: 'p', scope: 'project', limit: 10, windowSeconds: 60, reasonCode: 'project_quota' }, 42);
 * // { retryAfter: 42, categories: [], scope: 'project', reasonCode: 'project_quota' }
 * ```
 */
export function describeLimit(quota: QuotaConfig, retryAfter: number): ExceededLimit {
  const categories = quota.categories ?? [];
  const scope = quota.scope ?? 'organization';
  const { reasonCode } = quota;
  return reasonCode === undefined
    ? { retryAfter, categories, scope }
    : { retryAfter, categories, scope, reasonCode };
}
