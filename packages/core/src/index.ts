export {
  ErrorCode,
  type ErrorCodeValue,
  InvalidConfiguration,
  isStoreUnavailable,
  SluiceError,
  StoreUnavailableError,
} from './errors.js';
export {
  organizationQuota,
  type Project,
  projectQuota,
  QUOTA_SCOPES,
  type QuotaConfig,
  type QuotaScope,
  type QuotaSetting,
  validateQuotaConfig,
} from './quotas/quota-config.js';
export {
  DEFAULT_GRACE_SECONDS,
  type QuotaCallOptions,
  type QuotaContext,
  Quotas,
  type QuotasOptions,
  type QuotaUsage,
  REJECT_ALL_RETRY_AFTER,
} from './quotas/quotas.js';
export {
  type ExceededLimit,
  NotRateLimited,
  type QuotaRemaining,
  RateLimit,
  RateLimited,
  type RateLimitInit,
} from './quotas/rate-limit.js';
export { DEFAULT_MAX_KEYS, MemoryStore, type MemoryStoreOptions } from './store/memory-store.js';
export type { MemoryState, Reply, Store, StoreCall, StoreOperation } from './store/store.js';

// The concurrency limiter (DESIGN 2.3): a distributed semaphore with leases.
import type {
  AcquiredEvent,
  ConcurrencyEvents,
  LostEvent,
  ReclaimedEvent,
  ReleasedEvent,
  SkippedEvent,
  TimeoutEvent,
  WaitedEvent,
} from './concurrency/concurrency-events.js';
import { ConcurrencyLimiter } from './concurrency/concurrency-limiter.js';
import {
  type AcquireOptions,
  type ConcurrencyLimiterOptions,
  DEFAULT_LEASE_SECONDS,
  DEFAULT_RETRY_INTERVAL_SECONDS,
  DEFAULT_WAIT_SECONDS,
  type RunOptions,
  type RunResult,
} from './concurrency/concurrency-options.js';
import type { Lease } from './concurrency/lease.js';

export type {
  AcquiredEvent,
  AcquireOptions,
  ConcurrencyEvents,
  ConcurrencyLimiterOptions,
  Lease,
  LostEvent,
  ReclaimedEvent,
  ReleasedEvent,
  RunOptions,
  RunResult,
  SkippedEvent,
  TimeoutEvent,
  WaitedEvent,
};
export {
  ConcurrencyLimiter,
  DEFAULT_LEASE_SECONDS,
  DEFAULT_RETRY_INTERVAL_SECONDS,
  DEFAULT_WAIT_SECONDS,
};

// The sliding-window limiter (DESIGN 2.2): sentry-redis-tools' model, checked and used atomically.
import { Quota, type QuotaOptions } from './sliding-window/quota.js';
import type { GrantedQuota, RequestedQuota } from './sliding-window/requests.js';
import { SlidingWindowRateLimiter } from './sliding-window/sliding-window-rate-limiter.js';

// The framework-neutral HTTP layer (DESIGN 4) that the Express, Koa and Fastify adapters wrap.
export {
  type Answer,
  exposedHeaders,
  formatRateLimits,
  RATE_LIMITED_MESSAGE,
  type Refusal,
  SLUICE_HEADERS,
  wholeSeconds,
} from './http/answers.js';
export type {
  EventAccepted,
  EventDropped,
  EventReceived,
  SluiceEvents,
  StoreErrorEvent,
} from './http/http-events.js';
export {
  type Decision,
  type DroppedItem,
  HttpLimiter,
  type RequestOutcome,
} from './http/http-limiter.js';
export type {
  ConcurrencyOptions,
  Identity,
  PerRequest,
  RequestItem,
  SluiceOptions,
  WindowsOptions,
} from './http/http-options.js';
export type { HttpHeaders, HttpRequest, SluiceRequest } from './http/http-request.js';
export { AUTH_LIMITS, readSentryAuth, type SentryAuth } from './http/sentry-auth.js';
export type { GrantedQuota, QuotaOptions, RequestedQuota };
export { Quota, SlidingWindowRateLimiter };
