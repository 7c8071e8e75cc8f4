import type {} from '@sluice/test-support/provided-context';
import {
  assertRedisInstalled,
  type RedisCluster,
  type RedisServer,
  startRedisCluster,
  startRedisServer,
} from '@sluice/test-support/redis';
import type { TestProject } from 'vitest/node';

/**
 * Starts one redis-server (unless REDIS_URL is set) and one local 3-node Redis Cluster for the
 * whole run, and stops them at the end. No redis-server on PATH is a failure, never a skip.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  assertRedisInstalled();
  let server: RedisServer | undefined;
  let cluster: RedisCluster | undefined;
  try {
    if (process.env.REDIS_URL === undefined) server = await startRedisServer();
    const url = process.env.REDIS_URL ?? server!.url;
    cluster = await startRedisCluster(3);
    project.provide('redisUrl', url);
    project.provide('clusterNodes', cluster.startupNodes);
  } catch (error) {
    await server?.stop();
    throw error;
  }
  return async () => {
    await Promise.all([server?.stop(), cluster?.stop()]);
  };
}
