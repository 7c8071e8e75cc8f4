// Crash soak of the concurrency limiter: holders that take a slot and are SIGKILLed at once, 200
// times in a row (the test suite does 50), against a private Redis and a private 3-node Redis
// Cluster. Every slot a dead holder took can come back only by reclaim after its lease, so a
// single leak shows as a child that never gets a slot. Prints the figures and whether each
// check held.
// Usage: node --import tsx bench/concurrency-soak.ts [--kills 200] [--limit 4] [--lease-seconds 0.4] [--only redis|cluster]

import { parseArgs } from 'node:util';
import { ConcurrencyLimiter } from '@sluice/core';
import { RedisStore } from '@sluice/core/redis';
import { fmt, percentile } from '@sluice/test-support/load';
import { startFixture } from '@sluice/test-support/processes';
import { startRedisCluster, startRedisServer } from '@sluice/test-support/redis';
import { Cluster, Redis } from 'ioredis';

const { values: args } = parseArgs({
  options: {
    kills: { type: 'string' },
    'lease-seconds': { type: 'string' },
    limit: { type: 'string' },
    only: { type: 'string' },
  },
});

const kills = Number(args.kills) || 200;
const limit = Number(args.limit) || 4;
const leaseSeconds = Number(args['lease-seconds']) || 0.4;
const only = args.only;

console.log(
  `node ${process.version}; ${kills} holders SIGKILLed right after acquiring; limit ${limit}, leaseSeconds ${leaseSeconds}; ${limit + 1} children alive at once; each child waits up to lease + 1 s for a slot`,
);
let failures = 0;
const check = (label: string, held: boolean, figure: string) => {
  if (!held) failures++;
  console.log(`  ${label.padEnd(58)} ${figure.padEnd(22)} ${held ? 'held' : 'MISSED'}`);
};

async function soak(
  kind: 'redis' | 'cluster',
  client: Redis | Cluster,
  env: Record<string, string>,
) {
  const prefix = `soak${Date.now()}`;
  const args = [prefix, 'q', String(limit), String(leaseSeconds), String(leaseSeconds + 1)];
  const toSlot: number[] = [];
  let started = 0;
  let failed = 0;
  let lastKill = 0;
  const begun = performance.now();
  const worker = async () => {
    while (started < kills) {
      started++;
      const spawned = performance.now();
      const holder = startFixture('concurrency-holder.ts', args, env);
      try {
        const line = await holder.next(15_000);
        if (typeof line.id === 'string') toSlot.push(performance.now() - spawned);
        else failed++;
      } catch {
        failed++;
      } finally {
        await holder.signal('SIGKILL');
        lastKill = performance.now();
      }
    }
  };
  await Promise.all(Array.from({ length: limit + 1 }, worker));
  const elapsed = performance.now() - begun;

  const limiter = new ConcurrencyLimiter(new RedisStore(client, { prefix, timeoutMs: 2000 }), {
    limit,
    leaseSeconds,
    retryIntervalSeconds: Math.min(0.1, leaseSeconds),
  });
  const lease = await limiter.acquire('q', { waitSeconds: leaseSeconds + 1 });
  const acquiredAt = performance.now();
  await lease?.release();
  const settled = Math.max(lastKill, acquiredAt) + leaseSeconds * 1000 + 50;
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, settled - performance.now())));
  const inFlight = await limiter.inFlight('q');
  const leftover = await client.exists(`${prefix}:c:{q}`);

  toSlot.sort((a, b) => a - b);
  console.log(
    `\n-- ${kind}: ${kills} kills in ${fmt(elapsed / 1000, 1)} s (${fmt(elapsed / kills)} ms per kill, spawn included)`,
  );
  console.log(
    `  spawn -> slot held: p50=${fmt(percentile(toSlot, 0.5))}ms p99=${fmt(percentile(toSlot, 0.99))}ms max=${fmt(toSlot.at(-1) ?? Number.NaN)}ms`,
  );
  check(
    'every killed holder had got a slot',
    failed === 0 && toSlot.length === kills,
    `${toSlot.length}/${kills}`,
  );
  check(
    'new holder gets a slot within lease + 1 s of the last kill',
    lease !== null && acquiredAt - lastKill < (leaseSeconds + 1) * 1000,
    lease === null ? 'none' : `${fmt(acquiredAt - lastKill)} ms`,
  );
  check('inFlight once every lease expired', inFlight === 0, String(inFlight));
  check(
    'lease key gone (its TTL follows its leases)',
    leftover === 0,
    leftover === 0 ? 'gone' : 'present',
  );
}

if (only !== 'cluster') {
  const server = await startRedisServer();
  const client = new Redis(server.url, { maxRetriesPerRequest: 1 });
  await soak('redis', client, { SLUICE_REDIS_URL: server.url });
  client.disconnect();
  await server.stop();
}
if (only !== 'redis') {
  const cluster = await startRedisCluster(3);
  const client = new Cluster(cluster.startupNodes, { redisOptions: { maxRetriesPerRequest: 1 } });
  await soak('cluster', client, { SLUICE_CLUSTER_NODES: JSON.stringify(cluster.startupNodes) });
  client.disconnect();
  await cluster.stop();
}
console.log(failures === 0 ? '\nall checks held' : `\n${failures} check(s) missed`);
