// Reliability under faults and load at full size, with the tight figures: each scenario of
// @sluice/test-support/faults (private redis-server or Cluster, the fault app in its own
// process, a steady load from this one) at the sizes issue 7 names. Prints one `name=value`
// line per figure and whether its bound held.
// Usage: node --import tsx bench/faults.ts [--only hang,restart,flush,reshard,flood,hot,skew]

import { parseArgs } from 'node:util';
import { MemoryStore, type Project, Quotas } from '@sluice/core';
import { RedisStore } from '@sluice/core/redis';
import {
  clockSkew,
  clusterReshard,
  hotKey,
  redisHang,
  redisRestart,
  scriptFlush,
  serverErrors,
} from '@sluice/test-support/faults';
import { latencyQuantile } from '@sluice/test-support/load';
import { startRedisServer } from '@sluice/test-support/redis';
import { Redis } from 'ioredis';

const { values: args } = parseArgs({ options: { only: { type: 'string' } } });

const TIMEOUT_MS = 100;
const only = args.only?.split(',');
const scenario = (name: string) => only === undefined || only.includes(name);
let missed = 0;

type Bound = { max: number } | { min: number } | { equals: number | string };
function figure(name: string, value: number | string, bound?: Bound) {
  let verdict = '';
  if (bound !== undefined) {
    const held =
      'max' in bound
        ? Number(value) <= bound.max
        : 'min' in bound
          ? Number(value) >= bound.min
          : value === bound.equals;
    if (!held) missed++;
    const text =
      'max' in bound
        ? `<= ${bound.max}`
        : 'min' in bound
          ? `>= ${bound.min}`
          : `== ${bound.equals}`;
    verdict = `  (bound ${text}: ${held ? 'held' : 'MISSED'})`;
  }
  console.log(
    `${name}=${typeof value === 'number' ? Math.round(value * 100) / 100 : value}${verdict}`,
  );
}

console.log(
  `node ${process.version}; store deadline ${TIMEOUT_MS} ms; load from this process, app in its own\n`,
);

if (scenario('hang')) {
  console.log('# 1. Redis hung: SIGSTOP for 4 s under 500 req/s');
  for (const policy of ['allow', 'deny'] as const) {
    const r = await redisHang({ policy, ratePerSecond: 500, hangMs: 4000, timeoutMs: TIMEOUT_MS });
    figure(`hang_${policy}_requests_during`, r.during.length);
    figure(`hang_${policy}_p99_ms`, r.p99Ms, { max: TIMEOUT_MS + 5 });
    figure(`hang_${policy}_p50_ms`, latencyQuantile(r.during, 0.5));
    figure(`hang_${policy}_policy_decisions`, r.policyDecisions, { min: r.during.length });
    figure(`hang_${policy}_pending_1s_after_cont`, r.pendingAfterResume, { equals: 0 });
    figure(`hang_${policy}_store_errors_from_0.5s_after_cont`, r.storeErrorsAfterResume, {
      equals: 0,
    });
    if (policy === 'allow') figure('hang_allow_5xx', serverErrors(r.samples), { equals: 0 });
  }
}

if (scenario('restart')) {
  console.log('\n# 2. Redis killed (SIGKILL) for 3 s and restarted on the same port, 500 req/s');
  const r = await redisRestart({ ratePerSecond: 500, downMs: 3000, timeoutMs: TIMEOUT_MS });
  figure('restart_down_p99_ms', r.p99Ms, { max: TIMEOUT_MS + 5 });
  figure('restart_back_on_redis_ms', r.backOnRedisMs, { max: 1000 });
  figure('restart_5xx', serverErrors(r.samples), { equals: 0 });
  figure('restart_app_alive', r.appAlive ? 'yes' : 'no', { equals: 'yes' });
  figure('restart_unhandled_rejections', r.unhandledRejections, { equals: 0 });
}

if (scenario('flush')) {
  console.log(
    '\n# 3. SCRIPT FLUSH every 500 ms for 10 s under 500 req/s (deny policy, so a failure shows)',
  );
  const r = await scriptFlush({ ratePerSecond: 500, seconds: 10, timeoutMs: TIMEOUT_MS });
  figure('flush_decisions', r.samples.length);
  figure('flush_failed_decisions', r.failed + r.metrics.storeErrors, { equals: 0 });
}

if (scenario('reshard')) {
  console.log(
    '\n# 4. Redis Cluster: 1,000 slots resharded under 500 req/s (deny policy), 50 projects of 20 per day',
  );
  const r = await clusterReshard({
    slots: 1000,
    projects: 50,
    limit: 20,
    ratePerSecond: 500,
    seconds: 8,
  });
  figure('reshard_seconds', r.reshardSeconds);
  figure('reshard_requests', r.samples.length);
  figure('reshard_errors_beyond_policy', r.beyondPolicy.length, { equals: 0 });
  figure('reshard_policy_503', r.policyRefusals);
  figure('reshard_max_admitted_per_project', r.maxAdmittedPerProject, { max: 20 });
}

if (scenario('flood')) {
  console.log('\n# 5. Key flood: 1,000,000 distinct projects');
  const getQuotas = () => [
    {
      id: 'p',
      scope: 'project' as const,
      limit: 10,
      windowSeconds: 60,
      reasonCode: 'project_quota',
    },
  ];
  const store = new MemoryStore({ maxKeys: 100_000 });
  const quotas = new Quotas({ store, getQuotas });
  let peak = process.memoryUsage().rss;
  for (let i = 0; i < 1_000_000; i++) {
    await quotas.isRateLimited({ id: i, organizationId: i % 1000 } as Project);
    if (i % 10_000 === 0) peak = Math.max(peak, process.memoryUsage().rss);
  }
  figure('flood_memory_store_keys', store.size, { max: 100_000 });
  figure('flood_memory_evicted', store.evicted);
  figure('flood_peak_rss_mb', peak / 2 ** 20);
  const redis = await startRedisServer();
  const client = new Redis(redis.url);
  const onRedis = new Quotas({ store: new RedisStore(client, { timeoutMs: 5000 }), getQuotas });
  let next = 0;
  await Promise.all(
    Array.from({ length: 256 }, async () => {
      while (next < 1_000_000) {
        const id = next++;
        await onRedis.isRateLimited({ id, organizationId: id % 1000 });
      }
    }),
  );
  let cursor = '0';
  let keys = 0;
  let withoutTtl = 0;
  do {
    const [nextCursor, batch] = await client.scan(cursor, 'COUNT', 10_000);
    cursor = nextCursor;
    keys += batch.length;
    const pipeline = client.pipeline();
    for (const key of batch) pipeline.pttl(key);
    withoutTtl += ((await pipeline.exec()) ?? []).filter(([, ttl]) => (ttl as number) < 0).length;
  } while (cursor !== '0');
  figure('flood_redis_keys', keys);
  figure('flood_redis_keys_without_ttl', withoutTtl, { equals: 0 });
  client.disconnect();
  await redis.stop();
}

if (scenario('hot')) {
  console.log('\n# 6. Hot key: one project far over quota, 5,000 requests at 1,000 req/s');
  const r = await hotKey({ ratePerSecond: 1000, requests: 5000 });
  figure('hot_rejected', r.rejected);
  figure('hot_redis_commands_per_rejected', r.commandsPerRejected, { max: 0.01 });
  figure('hot_p99_ms_limiter', latencyQuantile(r.limited, 0.99));
  figure('hot_p99_ms_no_limiter', latencyQuantile(r.bare, 0.99));
}

if (scenario('skew')) {
  console.log(
    '\n# 7. Clock skew: two app processes 30 s apart on one Redis, 1,000 requests, limit 100',
  );
  const r = await clockSkew({ requests: 1000, limit: 100 });
  figure('skew_admitted', r.admitted, { max: r.limit });
  figure('skew_lease_reclaimed_early', r.whileHeld === 200 ? 'yes' : 'no', { equals: 'no' });
}

console.log(missed === 0 ? '\nall bounds held' : `\n${missed} bound(s) missed`);
