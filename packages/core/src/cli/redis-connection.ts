import type { Cluster, Redis, RedisOptions } from 'ioredis';

/** A Redis the CLI talks to: one node, or every master of a Cluster. */
export interface RedisConnection {
  /** The client commands go through (a Cluster client routes each key to its node). */
  readonly client: Redis | Cluster;
  /** One client per node that holds keys: the node itself, or each Cluster master. */
  readonly nodes: readonly Redis[];
  /** True when the URL's node is part of a Redis Cluster. */
  readonly cluster: boolean;
  close(): Promise<void>;
}

/**
 * Connects to the Redis at `url`, and to its whole Cluster when that node reports
 * `cluster_enabled:1`. Nothing is retried and nothing is queued while disconnected: connecting
 * and each command fail after `timeoutMs`, so a down or hung Redis ends the CLI with an error
 * instead of a wait. Needs `ioredis`, an optional peer dependency of `@sluice/core`.
 *
 * @example
 * ```ts
 * const redis = await connectRedis('redis://127.0.0.1:6379', 5000);
 * try { console.log(await redis.client.dbsize()); } finally { await redis.close(); }
 * ```
 */
export async function connectRedis(url: string, timeoutMs: number): Promise<RedisConnection> {
  const { Redis, Cluster } = await loadIoredis();
  const options: RedisOptions = {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    enableReadyCheck: false,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  };
  const node = new Redis(url, options);
  // Every failure also rejects the command that met it, often as a bare "Connection is
  // closed"; the error event says why (ECONNREFUSED, a TLS or auth failure).
  let cause: Error | undefined;
  node.on('error', (error: Error) => {
    cause ??= error;
  });
  try {
    const info = await withDeadline(
      node.connect().then(() => node.info('cluster')),
      timeoutMs,
      () => cause,
    );
    if (!/^cluster_enabled:1\s*$/m.test(info)) {
      return { client: node, nodes: [node], cluster: false, close: () => quit([node]) };
    }
  } catch (error) {
    node.disconnect();
    throw error;
  }
  const { host, port, username, password, tls } = node.options;
  node.disconnect();
  const cluster = new Cluster([{ host, port }], {
    lazyConnect: true,
    enableOfflineQueue: false,
    clusterRetryStrategy: () => null,
    slotsRefreshTimeout: timeoutMs,
    redisOptions: { ...options, username, password, tls, lazyConnect: false },
  });
  cluster.on('error', () => {});
  try {
    await withDeadline(cluster.connect(), timeoutMs, () => undefined);
    const masters = cluster.nodes('master');
    return { client: cluster, nodes: masters, cluster: true, close: () => quit([cluster]) };
  } catch (error) {
    cluster.disconnect();
    throw error;
  }
}

/** `work`, or a rejection once `timeoutMs` pass; the first error the client reported wins. */
async function withDeadline<T>(
  work: Promise<T>,
  timeoutMs: number,
  reported: () => Error | undefined,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([work, deadline]);
  } catch (error) {
    throw reported() ?? error;
  } finally {
    clearTimeout(timer);
  }
}

async function loadIoredis(): Promise<{ Redis: typeof Redis; Cluster: typeof Cluster }> {
  try {
    const { Redis, Cluster } = await import('ioredis');
    return { Redis, Cluster };
  } catch (error) {
    throw new Error(
      'the sluice CLI needs ioredis: install it beside @sluice/core (npm i ioredis)',
      {
        cause: error,
      },
    );
  }
}

async function quit(clients: ReadonlyArray<Redis | Cluster>): Promise<void> {
  await Promise.all(clients.map((client) => client.quit().catch(() => client.disconnect())));
}
