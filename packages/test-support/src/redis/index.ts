/**
 * Real Redis for tests and benchmarks: a redis-server, a Cluster or a Sentinel set on free
 * loopback ports, each removed (processes and folders) by its `stop()`, and Redis's own CPU time.
 *
 * @example
 * ```ts
 * import { redisCpuSeconds, startRedisServer } from '@sluice/test-support/redis';
 *
 * const server = await startRedisServer();
 * const admin = new Redis(server.url);
 * const before = await redisCpuSeconds(admin);
 * // ... load ...
 * const redisSeconds = (await redisCpuSeconds(admin)) - before;
 * admin.disconnect();
 * await server.stop();
 * ```
 */
export { type BenchRedis, benchRedis } from './bench-redis.js';
export { type RedisCluster, startRedisCluster } from './redis-cluster.js';
export { redisCpuSeconds } from './redis-cpu.js';
export {
  type RedisSentinelSet,
  type SentinelAddress,
  startRedisSentinelSet,
} from './redis-sentinel.js';
export {
  assertRedisInstalled,
  freePort,
  isPortFree,
  killOnExit,
  type RedisServer,
  startRedisServer,
  waitUntilReady,
} from './redis-server.js';
