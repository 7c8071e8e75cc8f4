export { CardinalityLimiter, cardinalityKey } from './cardinality/cardinality-limiter.js';
export type {
  CardinalityGrant,
  CardinalityRequest,
} from './cardinality/cardinality-requests.js';
export { VALUE_HASH_BITS, valueHash } from './cardinality/value-hash.js';
export type {
  AcquiredEvent,
  ConcurrencyEvents,
  LostEvent,
  ReclaimedEvent,
  ReleasedEvent,
  SkippedEvent,
  TimeoutEvent,
  WaitedEvent,
} from './concurrency/concurrency-events.js';
export { ConcurrencyLimiter } from './concurrency/concurrency-limiter.js';
export {
  type AcquireOptions,
  type ConcurrencyLimiterOptions,
  DEFAULT_LEASE_SECONDS,
  DEFAULT_RETRY_INTERVAL_SECONDS,
  DEFAULT_WAIT_SECONDS,
  type RunOptions,
  type RunResult,
} from './concurrency/concurrency-options.js';
export type { Lease } from './concurrency/lease.js';
export {
  ErrorCode,
  type ErrorCodeValue,
  InvalidConfiguration,
  isStoreUnavailable,
  SluiceError,
  StoreUnavailableError,
} from './errors.js';
export {
  type Answer,
  exposedHeaders,
  formatRateLimits,
  RATE_LIMITED_MESSAGE,
  SLUICE_HEADERS,
  wholeSeconds,
} from './http/answers.js';
export type { DroppedItem } from './http/dropped-items.js';
export type {
  ConfigErrorEvent,
  EventAccepted,
  EventDropped,
  EventReceived,
  SluiceEvents,
  StoreErrorEvent,
  StoreFallbackEvent,
} from './http/http-events.js';
export type {
  CardinalityHttpOptions,
  ConcurrencyOptions,
  Identity,
  LimitedResponse,
  LockoutHttpOptions,
  PerRequest,
  Refusal,
  RequestItem,
  SluiceOptions,
  WindowsOptions,
} from './http/http-options.js';
export type { HttpHeaders, HttpRequest, SluiceRequest } from './http/http-request.js';
export type { RequestOutcome } from './http/request-outcome.js';
export { AUTH_LIMITS, readSentryAuth, type SentryAuth } from './http/sentry-auth.js';
export { FALLBACK_PROBE_INTERVAL_MS } from './http/store-fallback.js';
export { Lockout, type LockoutCallOptions, type LockoutState } from './lockout/lockout.js';
export {
  DEFAULT_BACKOFF,
  DEFAULT_FORGET_SECONDS,
  DEFAULT_MAX_BLOCK_SECONDS,
  type LockoutOptions,
  MAX_LOCKOUT_AFTER,
} from './lockout/lockout-options.js';
export {
  DECISION_CHANNEL,
  type DecisionEngine,
  type DecisionMessage,
  type DecisionOutcome,
} from './metrics/decision-channel.js';
export { FALLBACK_CHANNEL, type FallbackMessage } from './metrics/fallback-channel.js';
export { STORE_CHANNEL, type StoreCallMessage } from './metrics/store-channel.js';
export {
  SHORT_RECHECK_MS,
  SLICE_CAP_DIVISOR,
  SLICE_TARGET_MS,
  UNLIMITED_SLICE_CAP,
} from './quotas/global-budget.js';
export { HEADROOM_SHARE_DIVISOR } from './quotas/global-take.js';
export { REJECT_ALL_RETRY_AFTER } from './quotas/quota-answer.js';
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
  type QuotaReset,
  type QuotaResetOptions,
  Quotas,
  type QuotaUsage,
} from './quotas/quotas.js';
export {
  DEFAULT_GRACE_SECONDS,
  type QuotaCallOptions,
  type QuotaContext,
  type QuotasOptions,
} from './quotas/quotas-options.js';
export {
  type ExceededLimit,
  NotRateLimited,
  type QuotaRemaining,
  RateLimit,
  RateLimited,
  type RateLimitInit,
} from './quotas/rate-limit.js';
export {
  DEFAULT_REJECTION_CACHE_MAX_SECONDS,
  RejectionCache,
} from './quotas/rejection-cache.js';
export { Quota, type QuotaOptions } from './sliding-window/quota.js';
export type { GrantedQuota, RequestedQuota } from './sliding-window/requests.js';
export { SlidingWindowRateLimiter } from './sliding-window/sliding-window-rate-limiter.js';
export { DEFAULT_PREFIX } from './store/key-parts.js';
export { MemoryStore, type MemoryStoreOptions } from './store/memory-store.js';
export { DEFAULT_MAX_KEYS } from './store/memory-store-options.js';
export {
  type Arg,
  defineOperation,
  type Operation,
  positionalOperation,
  type StoreCall,
} from './store/operation.js';
export type { MemoryState, Reply, Store } from './store/store.js';
