import type { Redis } from 'ioredis';

/**
 * Seconds of CPU (user + system) redis-server has used, from `INFO cpu`: read it before and
 * after a load and divide the difference by the operations for Redis's cost per operation.
 *
 * @example
 * ```ts
 * const before = await redisCpuSeconds(admin);
 * const result = await closedLoop(check, { concurrency: 64, durationMs: 2000 });
 * const redisUsPerOp = (((await redisCpuSeconds(admin)) - before) * 1e6) / result.ops;
 * ```
 */
export async function redisCpuSeconds(client: Pick<Redis, 'info'>): Promise<number> {
  const info = await client.info('cpu');
  const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return field('used_cpu_user') + field('used_cpu_sys');
}
