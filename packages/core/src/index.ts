export {
  ErrorCode,
  type ErrorCodeValue,
  InvalidConfiguration,
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
  RateLimit,
  RateLimited,
  type RateLimitInit,
} from './quotas/rate-limit.js';
export { DEFAULT_MAX_KEYS, MemoryStore, type MemoryStoreOptions } from './store/memory-store.js';
export type { MemoryState, Reply, Store, StoreCall, StoreOperation } from './store/store.js';
