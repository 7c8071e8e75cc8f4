import { Redis, type RedisOptions } from 'ioredis';
import { startRedisServer } from './redis-server.js';

/** A private redis-server for one benchmark, with an admin client and the clients it handed out. */
export interface BenchRedis {
  readonly url: string;
  /** For INFO and the like; not measured. */
  readonly admin: Redis;
  /** Redis's version, for the printed configuration. */
  readonly version: string;
  /** A new client with the benchmark's options, closed by `close()`. */
  client(): Redis;
  close(): Promise<void>;
}

/**
 * Starts a private redis-server; every client gets `options` (printed by the caller).
 *
 * @example
 * ```ts
 * const redis = await benchRedis({ maxRetriesPerRequest: 1, enableAutoPipelining: false });
 * const store = new RedisStore(redis.client(), { prefix: 'bench' });
 * // ... measure ...
 * await redis.close();
 * ```
 */
export async function benchRedis(options: RedisOptions): Promise<BenchRedis> {
  const server = await startRedisServer();
  const admin = new Redis(server.url);
  const clients: Redis[] = [];
  const version = /redis_version:(\S+)/.exec(await admin.info('server'))?.[1] ?? 'unknown';
  return {
    url: server.url,
    admin,
    version,
    client() {
      const c = new Redis(server.url, options);
      clients.push(c);
      return c;
    },
    async close() {
      for (const c of clients) c.disconnect();
      admin.disconnect();
      await server.stop();
    },
  };
}
