// Checks per second, p50/p99 and CPU per check of sluice's two-quota (project + organization)
// decision against rate-limiter-flexible's one-limit check, on memory and on one private Redis,
// in the same run. Usage: node --import tsx bench/quotas.ts [--duration-ms 3000]
// [--only memory|redis] [--clients ioredis,node-redis] (the Redis clients sluice runs on; default
// ioredis; with both, their ratio is printed).

import { parseArgs } from 'node:util';
import { MemoryStore, organizationQuota, projectQuota, Quotas, type Store } from '@sluice/core';
import { nodeRedisClient, RedisStore } from '@sluice/core/redis';
import { closedLoop, fmt, type LoadResult } from '@sluice/test-support/load';
import { benchRedis, redisCpuSeconds } from '@sluice/test-support/redis';
import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import { createClient } from 'redis';

const { values: args } = parseArgs({
  options: {
    clients: { type: 'string' },
    'duration-ms': { type: 'string' },
    only: { type: 'string' },
  },
});

const durationMs = Number(args['duration-ms']) || 3000;
/** `--only redis` or `--only memory` runs half of the table. */
const only = args.only;
const clients = (args.clients ?? 'ioredis').split(',');
for (const name of clients) {
  if (name !== 'ioredis' && name !== 'node-redis') {
    console.error(`--clients: expected ioredis and/or node-redis, got ${name}`);
    process.exit(2);
  }
}
const CONCURRENCY = [1, 64, 256];
const PROJECTS = 1000;
const LIMIT = 1e9; // pass-through: nothing is refused, every check counts

const project = (i: number) => ({ id: i % PROJECTS, organizationId: (i % PROJECTS) % 50 });
const sluice = (store: Store) => {
  const quotas = new Quotas({
    store,
    getQuotas: (p) => [
      projectQuota(p, { limit: LIMIT, windowSeconds: 60 }),
      organizationQuota(p, { limit: LIMIT, windowSeconds: 60 }),
    ],
  });
  return (i: number) => quotas.isRateLimited(project(i));
};

/** A deadline no decision should reach, so a loaded machine slows the figures instead of failing them. */
const storeOptions = { prefix: 'bench', timeoutMs: 2000 };
const redisOptions = { enableOfflineQueue: true, maxRetriesPerRequest: 1 } as const;
const redis = await benchRedis(redisOptions);
const { admin } = redis;
const client = () => redis.client();

console.log(`node ${process.version}, redis-server ${redis.version}`);
console.log(`closed loop, ${durationMs} ms per run, ${PROJECTS} projects, limits never reached`);
console.log(
  'peers: rate-limiter-flexible RateLimiterMemory / RateLimiterRedis (ioredis, defaults) with one limit;',
);
console.log('sluice: Quotas with a project and an organization quota (two counters per check)');
console.log(
  `sluice's Redis clients: ${clients.join(', ')} (ioredis ${JSON.stringify(redisOptions)}; node-redis createClient defaults), RedisStore ${JSON.stringify(storeOptions)}\n`,
);

const bareMap = () => {
  const map = new Map<string, number>();
  return async (i: number) => {
    const key = `p:${i % PROJECTS}`;
    map.set(key, (map.get(key) ?? 0) + 1);
  };
};
const rlfMemory = () => {
  const limiter = new RateLimiterMemory({ points: LIMIT, duration: 60 });
  return (i: number) => limiter.consume(String(i % PROJECTS), 1);
};
const rlfRedis = () => {
  const limiter = new RateLimiterRedis({
    storeClient: client(),
    points: LIMIT,
    duration: 60,
    keyPrefix: 'rlf',
  });
  return (i: number) => limiter.consume(String(i % PROJECTS), 1);
};

interface Row {
  name: string;
  concurrency: number;
  result: LoadResult;
  redisUsPerOp?: number;
}
const rows: Row[] = [];
async function measure(name: string, make: () => (i: number) => Promise<unknown>, redis: boolean) {
  for (const concurrency of CONCURRENCY) {
    const op = make();
    const before = redis ? await redisCpuSeconds(admin) : 0;
    const result = await closedLoop(op, { concurrency, durationMs });
    const row: Row = { name, concurrency, result };
    if (redis) row.redisUsPerOp = (((await redisCpuSeconds(admin)) - before) * 1e6) / result.ops;
    rows.push(row);
    console.log(
      `${name.padEnd(28)} c=${String(concurrency).padEnd(4)} ${fmt(result.perSecond).padStart(10)}/s  p50=${fmt(result.p50Ms, 3)}ms  p99=${fmt(result.p99Ms, 3)}ms  node=${fmt(result.cpuUsPerOp, 1)}us/check${row.redisUsPerOp === undefined ? '' : `  redis=${fmt(row.redisUsPerOp, 1)}us/check`}`,
    );
  }
}

if (only !== 'redis') {
  await measure('bare Map (baseline)', bareMap, false);
  await measure('RateLimiterMemory', rlfMemory, false);
  await measure('sluice memory', () => sluice(new MemoryStore()), false);
}
if (only !== 'memory') {
  await measure('RateLimiterRedis', rlfRedis, true);
  if (clients.includes('ioredis')) {
    await measure('sluice redis', () => sluice(new RedisStore(client(), storeOptions)), true);
  }
  if (clients.includes('node-redis')) {
    const nodeRedis = await createClient({ url: redis.url }).connect();
    await measure(
      'sluice redis (node-redis)',
      () => sluice(new RedisStore(nodeRedisClient(nodeRedis), storeOptions)),
      true,
    );
    nodeRedis.destroy();
  }
}

const rate = (name: string, c: number) =>
  rows.find((r) => r.name === name && r.concurrency === c)?.result.perSecond ?? Number.NaN;
console.log('\nratios (same run):');
let missed = 0;
const target = (label: string, value: number, goal: number) => {
  const held = value >= goal;
  if (!held) missed++;
  console.log(
    `${label.padEnd(58)} ${fmt(value, 2)}x  target >= ${goal}x  ${held ? 'held' : 'MISSED'}`,
  );
};
for (const c of CONCURRENCY) {
  if (only === 'redis') break;
  target(
    `sluice memory / RateLimiterMemory, c=${c}`,
    rate('sluice memory', c) / rate('RateLimiterMemory', c),
    2,
  );
  console.log(
    `${`sluice memory / bare Map, c=${c}`.padEnd(58)} ${fmt(rate('sluice memory', c) / rate('bare Map (baseline)', c), 2)}x`,
  );
}
for (const c of CONCURRENCY) {
  if (only === 'memory' || !clients.includes('ioredis')) break;
  const ratio = rate('sluice redis', c) / rate('RateLimiterRedis', c);
  if (c === 64) target(`sluice redis / RateLimiterRedis, c=${c}`, ratio, 1.5);
  else console.log(`${`sluice redis / RateLimiterRedis, c=${c}`.padEnd(58)} ${fmt(ratio, 2)}x`);
}
for (const c of CONCURRENCY) {
  if (only === 'memory' || clients.length < 2) break;
  const ratio = rate('sluice redis (node-redis)', c) / rate('sluice redis', c);
  console.log(`${`sluice on node-redis / on ioredis, c=${c}`.padEnd(58)} ${fmt(ratio, 2)}x`);
}
console.log(missed === 0 ? '\nall targets held' : `\n${missed} target(s) missed`);

await redis.close();
