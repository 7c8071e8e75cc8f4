export {
  EVICTING_REDIS_WARNING,
  type MemoryPolicy,
  readMemoryPolicy,
} from './store/eviction-policy.js';
export {
  type NodeRedisEvalOptions,
  type NodeRedisScripting,
  nodeRedisClient,
} from './store/node-redis-client.js';
export { MAX_BATCH, RedisBatcher, type RedisBatcherOptions } from './store/redis-batcher.js';
export {
  DEFAULT_MAX_BATCH,
  DEFAULT_TIMEOUT_MS,
  type RedisClient,
  RedisStore,
  type RedisStoreOptions,
} from './store/redis-store.js';
export type { ScriptClient } from './store/script-client.js';
