export {
  DEFAULT_MAX_BATCH,
  DEFAULT_TIMEOUT_MS,
  type RedisClient,
  RedisStore,
  type RedisStoreOptions,
} from './store/redis-store.js';
