import { MemoryStore, positionalOperation, type Reply, type Store } from '@sluice/core';
import { nodeRedisClient, RedisStore } from '@sluice/core/redis';
import { Cluster, Redis } from 'ioredis';
import { createClient, createCluster } from 'redis';
import { afterAll, beforeAll, inject } from 'vitest';
import type {} from './provided-context.js';

/**
 * The stores every engine's contract suite runs against: memory, and `RedisStore` on a single
 * Redis and on a Cluster through ioredis and through node-redis (`redis` v5).
 */
export const STORE_KINDS = [
  'memory',
  'redis',
  'cluster',
  'node-redis',
  'node-redis-cluster',
] as const;
/** One of {@link STORE_KINDS}. */
export type StoreKind = (typeof STORE_KINDS)[number];

/** A fresh, isolated store per test, and ways to look at what it holds. */
export interface StoreHarness {
  readonly kind: StoreKind;
  /** A store with a key prefix of its own; memory stores share `clock`. */
  store(options?: { maxKeys?: number; timeoutMs?: number }): Store;
  /**
   * Milliseconds left before `key` expires, as the store sees it (-1: absent, -2 on Redis:
   * absent). A fixed-window counter `<base>:<slot>` also needs its window's end, since the
   * memory store keeps it as `<base>` in that window.
   */
  pttl(store: Store, key: string, windowEndMs?: number): Promise<number>;
  /** Number of keys under the store's prefix. */
  keyCount(store: Store): Promise<number>;
  /** An ioredis client on the kind's Redis (Redis kinds; the node-redis kinds inspect with it too). */
  readonly client: Redis | Cluster | undefined;
}

const pttlOperation = positionalOperation({
  name: 'sluice_test_pttl',
  lua: `return redis.call('PTTL', keys[1])`,
  memory: (state, keys, args): Reply =>
    args.length === 0
      ? state.ttl(keys[0]!)
      : state.ttl(keys[0]!.slice(0, keys[0]!.lastIndexOf(':')), Number(args[0])),
});

/**
 * `store` as another process sees it: the same keys and connection, but a new object, so the
 * `Quotas` engines on it hold their own slices of global quotas (a process's slices belong to
 * its store object), as a second process's would.
 *
 * @example
 * ```ts
 * const engines = [store, processView(store)].map((s) => new Quotas({ store: s, getQuotas }));
 * ```
 */
export function processView(store: Store): Store {
  const view: Store = {
    prefix: store.prefix,
    clustered: store.clustered,
    run: (operation, args, timestampMs) => store.run(operation, args, timestampMs),
  };
  const { clock, runNow } = store;
  return {
    ...view,
    ...(clock === undefined ? {} : { clock }),
    ...(runNow === undefined
      ? {}
      : {
          runNow: (operation, args, timestampMs) =>
            runNow.call(store, operation, args, timestampMs),
        }),
  } as Store;
}

/** A connected node-redis client or cluster. */
type NodeRedis = { destroy(): void } & Parameters<typeof nodeRedisClient>[0];

let sequence = 0;

/** Registers the hooks that connect to the kind's Redis and returns the harness. */
export function useStore(kind: StoreKind): StoreHarness {
  let client: Redis | Cluster | undefined;
  let nodeRedis: NodeRedis | undefined;
  beforeAll(async () => {
    if (kind === 'redis' || kind === 'node-redis') {
      client = new Redis(inject('redisUrl'), { maxRetriesPerRequest: 1 });
    }
    if (kind === 'cluster' || kind === 'node-redis-cluster') {
      client = new Cluster(inject('clusterNodes'), { redisOptions: { maxRetriesPerRequest: 1 } });
    }
    if (kind === 'node-redis') {
      nodeRedis = await createClient({ url: inject('redisUrl') })
        .on('error', () => {})
        .connect();
    }
    if (kind === 'node-redis-cluster') {
      const rootNodes = inject('clusterNodes').map((n) => ({ url: `redis://${n.host}:${n.port}` }));
      nodeRedis = await createCluster({ rootNodes })
        .on('error', () => {})
        .connect();
    }
  });
  afterAll(async () => {
    client?.disconnect();
    nodeRedis?.destroy();
  });
  return {
    kind,
    get client() {
      return client;
    },
    store(options = {}) {
      const prefix = `t${process.pid}x${++sequence}x${Math.random().toString(36).slice(2, 8)}`;
      if (kind === 'memory') return new MemoryStore({ prefix, maxKeys: options.maxKeys });
      const timeoutMs = options.timeoutMs ?? 2000;
      if (nodeRedis !== undefined) {
        return new RedisStore(nodeRedisClient(nodeRedis), { prefix, timeoutMs });
      }
      return new RedisStore(client!, { prefix, timeoutMs });
    },
    async pttl(store, key, windowEndMs) {
      const args = windowEndMs === undefined ? [] : [windowEndMs];
      return (await store.run(pttlOperation, { keys: [key], args })) as number;
    },
    async keyCount(store) {
      if (store instanceof MemoryStore) return store.size;
      const nodes = client instanceof Cluster ? client.nodes('master') : [client!];
      let count = 0;
      for (const node of nodes) {
        let cursor = '0';
        do {
          const [next, keys] = await node.scan(cursor, 'MATCH', `${store.prefix}:*`, 'COUNT', 1000);
          cursor = next;
          count += keys.length;
        } while (cursor !== '0');
      }
      return count;
    },
  };
}
