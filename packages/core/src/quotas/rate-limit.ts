/** One exceeded quota, as listed in `X-Sentry-Rate-Limits`. */
export interface ExceededLimit {
  /** Seconds until this quota's next window starts. */
  retryAfter: number;
  /** Data categories the quota applies to; empty: all. */
  categories: string[];
  /** `organization`, `project` or `key`. */
  scope: string;
  /** Machine-readable reason, e.g. `project_quota`. */
  reasonCode?: string;
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

  constructor(isLimited: boolean, init: RateLimitInit = {}) {
    this.isLimited = isLimited;
    if (init.retryAfter !== undefined) this.retryAfter = init.retryAfter;
    if (init.reason !== undefined) this.reason = init.reason;
    if (init.reasonCode !== undefined) this.reasonCode = init.reasonCode;
    if (init.limits !== undefined) this.limits = init.limits;
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
