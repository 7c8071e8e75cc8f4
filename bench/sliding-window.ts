/**
 * Sliding-window limiter benchmark: sluice's atomic check-and-use against upstream's
 * (sentry-redis-tools') non-atomic design on the same private redis-server, in one run.
 *
 *   node --import tsx bench/sliding-window.ts          (BENCH_SECONDS=3 per configuration)
 *
 * 1. Throughput and p99 of checkAndUseQuotas with two windows (60 s at 1 s, 1 h at 60 s) on
 *    memory and Redis at concurrency 1 and 64; target: sluice >= 1.0x upstream on Redis.
 * 2. Over-spend: 500 calls of 1 unit against a limit of 50 at concurrency 1, 64 and 500, for
 *    sluice's atomic path, sluice's two-step path and upstream; target: atomic over-spend 0.
 * 3. Cost against granules per window (60, 600, 3600), every granule holding units: calls per
 *    second and CPU per call (Redis's for the Redis designs, Node's for memory), with time
 *    fixed, sliding a granule per call, or limited.
 */

import {
  MemoryStore,
  Quota,
  type RequestedQuota,
  SlidingWindowRateLimiter,
  type Store,
} from '@sluice/core';
import { RedisStore } from '@sluice/core/redis';
import { closedLoop, fmt, type LoadResult } from '@sluice/test-support/load';
import { NonAtomicSlidingWindow } from '@sluice/test-support/peers';
import { redisCpuSeconds, startRedisServer } from '@sluice/test-support/redis';
import { Redis } from 'ioredis';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const COST_SECONDS = Math.max(1, SECONDS * 0.67);
const ORGS = 256;
const LIMIT = 1_000_000_000;

/** The checkAndUseQuotas surface both designs offer. */
interface Limiter {
  checkAndUseQuotas(requests: RequestedQuota[], timestamp?: number): Promise<{ granted: number }[]>;
}

const server = await startRedisServer();
const ioredisOptions = { maxRetriesPerRequest: 1, enableAutoPipelining: false };
const client = new Redis(server.url, ioredisOptions);
const admin = new Redis(server.url);
const redisStore = (prefix: string): Store => new RedisStore(client, { prefix, timeoutMs: 10_000 });
const sluiceOn = (kind: 'memory' | 'redis', prefix: string) =>
  new SlidingWindowRateLimiter(
    kind === 'memory' ? new MemoryStore({ prefix }) : redisStore(prefix),
  );
const upstream = (prefix: string) => new NonAtomicSlidingWindow(client, prefix);

const verdict = (held: boolean) => (held ? 'held' : 'MISSED');

/** Runs a closed loop and measures Redis CPU per call over it (0 on memory). */
async function measure(
  call: (i: number) => Promise<unknown>,
  concurrency: number,
  seconds: number,
  onRedis: boolean,
): Promise<LoadResult & { redisUsPerCall: number; nodeUsPerCall: number }> {
  const cpuBefore = onRedis ? await redisCpuSeconds(admin) : 0;
  const nodeBefore = process.cpuUsage();
  const load = await closedLoop(call, { concurrency, durationMs: seconds * 1000 });
  const node = process.cpuUsage(nodeBefore);
  const cpu = onRedis ? (await redisCpuSeconds(admin)) - cpuBefore : 0;
  const calls = load.ops + load.warmupOps;
  return {
    ...load,
    redisUsPerCall: (cpu * 1e6) / calls,
    nodeUsPerCall: (node.user + node.system) / calls,
  };
}

function printLoad(
  label: string,
  load: LoadResult & { redisUsPerCall: number; nodeUsPerCall: number },
): void {
  const redis = load.redisUsPerCall > 0 ? `${fmt(load.redisUsPerCall, 1)} us` : '-';
  console.log(
    `  ${label.padEnd(48)} ${fmt(load.perSecond).padStart(9)} calls/s   p50 ${fmt(load.p50Ms, 2).padStart(6)} ms   p99 ${fmt(load.p99Ms, 2).padStart(6)} ms   CPU per call: node ${fmt(load.nodeUsPerCall, 1).padStart(6)} us, redis ${redis.padStart(9)}`,
  );
}

// 1. Throughput ---------------------------------------------------------------------------
console.log(
  `sluice sliding-window benchmark (redis-server ${server.port}, ${SECONDS} s per configuration)`,
);
console.log('\n1. checkAndUseQuotas, windows 60 s @ 1 s and 1 h @ 60 s, 256 organizations');
const twoWindows = [
  new Quota({ windowSeconds: 60, granularitySeconds: 1, limit: LIMIT }),
  new Quota({ windowSeconds: 3600, granularitySeconds: 60, limit: LIMIT }),
];
const orgRequest = (i: number): RequestedQuota[] => [
  { prefix: `org:${i % ORGS}`, requested: 1, quotas: twoWindows },
];
const throughput = new Map<string, number>();
for (const concurrency of [1, 64]) {
  const runs: Array<[string, Limiter, boolean]> = [
    ['sluice memory (atomic)', sluiceOn('memory', `tm${concurrency}`), false],
    ['sluice redis (atomic, one EVALSHA)', sluiceOn('redis', `tr${concurrency}`), true],
    ['upstream design redis (GETs, then INCRBY/EXPIRE)', upstream(`tu${concurrency}`), true],
  ];
  for (const [label, limiter, onRedis] of runs) {
    const load = await measure(
      (i) => limiter.checkAndUseQuotas(orgRequest(i)),
      concurrency,
      SECONDS,
      onRedis,
    );
    printLoad(`${label}, concurrency ${concurrency}`, load);
    throughput.set(`${label}/${concurrency}`, load.perSecond);
  }
  const ratio =
    throughput.get(`sluice redis (atomic, one EVALSHA)/${concurrency}`)! /
    throughput.get(`upstream design redis (GETs, then INCRBY/EXPIRE)/${concurrency}`)!;
  console.log(
    `  ratio sluice/upstream on Redis at concurrency ${concurrency}: ${fmt(ratio, 2)}x (target >= 1.0x: ${verdict(ratio >= 1)})`,
  );
  await admin.flushall();
}

// 2. Over-spend -----------------------------------------------------------------------------
console.log(
  '\n2. Over-spend: 500 calls of 1 unit against a limit of 50 (60 s window), fixed timestamp',
);
const fifty = [
  new Quota({ windowSeconds: 60, granularitySeconds: 1, limit: 50 }),
  new Quota({ windowSeconds: 3600, granularitySeconds: 60, limit: LIMIT }),
];
const one: RequestedQuota[] = [{ prefix: 'org:1', requested: 1, quotas: fifty }];
const twoStep = (limiter: SlidingWindowRateLimiter): Limiter => ({
  async checkAndUseQuotas(requests, timestamp) {
    const [t, grants] = await limiter.checkWithinQuotas(requests, timestamp);
    await limiter.useQuotas(requests, grants, t);
    return grants;
  },
});
let atomicOverSpend = 0;
for (const concurrency of [1, 64, 500]) {
  const runs: Array<[string, Limiter, boolean]> = [
    ['sluice memory checkAndUseQuotas', sluiceOn('memory', `om${concurrency}`), true],
    ['sluice redis checkAndUseQuotas', sluiceOn('redis', `or${concurrency}`), true],
    ['sluice memory check, then use', twoStep(sluiceOn('memory', `otm${concurrency}`)), false],
    ['sluice redis check, then use', twoStep(sluiceOn('redis', `otr${concurrency}`)), false],
    ['upstream design redis', upstream(`ou${concurrency}`), false],
  ];
  for (const [label, limiter, atomic] of runs) {
    const timestamp = Date.now() / 1000;
    let next = 0;
    let granted = 0;
    const worker = async () => {
      while (next++ < 500) {
        const [grant] = await limiter.checkAndUseQuotas(one, timestamp);
        granted += grant!.granted;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const over = Math.max(0, granted - 50);
    if (atomic) atomicOverSpend = Math.max(atomicOverSpend, over);
    console.log(
      `  ${`${label}, concurrency ${concurrency}`.padEnd(48)} granted ${String(granted).padStart(3)}   over-spend ${String(over).padStart(3)} (${fmt((over / 50) * 100)}%)`,
    );
  }
}
console.log(
  `  atomic over-spend: ${atomicOverSpend} (target 0: ${verdict(atomicOverSpend === 0)})`,
);
await admin.flushall();

// 3. Cost against granules per window --------------------------------------------------------
console.log(
  '\n3. Cost against granules per window (one window at 1 s granularity, every granule holding 1 unit; concurrency 1)',
);
const T0 = Math.floor(Date.now() / 1000);
const cost = new Map<string, number>();
for (const n of [60, 600, 3600]) {
  for (const state of ['fixed', 'sliding', 'limited'] as const) {
    const quota = new Quota({
      windowSeconds: n,
      granularitySeconds: 1,
      limit: state === 'limited' ? n : LIMIT,
    });
    const requests: RequestedQuota[] = [{ prefix: 'org:1', requested: 1, quotas: [quota] }];
    const filled = requests.map((r) => ({ prefix: r.prefix, granted: 1, reachedQuotas: [] }));
    const prefill = async (use: (t: number) => Promise<unknown>) => {
      const uses: Promise<unknown>[] = [];
      for (let t = T0 - n + 1; t <= T0; t++) uses.push(use(t));
      await Promise.all(uses);
    };
    const designs: Array<[string, Limiter, boolean]> = [];
    const memory = sluiceOn('memory', `cm${n}${state}`);
    await prefill((t) => memory.useQuotas(requests, filled, t));
    designs.push(['sluice memory', memory, false]);
    const redis = sluiceOn('redis', `cr${n}${state}`);
    await prefill((t) => redis.useQuotas(requests, filled, t));
    designs.push(['sluice redis', redis, true]);
    const peer = upstream(`cu${n}${state}`);
    await prefill((t) => peer.useQuotas(requests, filled, t));
    designs.push(['upstream design redis', peer, true]);
    for (const [label, limiter, onRedis] of designs) {
      let step = 0;
      const load = await measure(
        () => limiter.checkAndUseQuotas(requests, state === 'sliding' ? T0 + ++step : T0),
        1,
        COST_SECONDS,
        onRedis,
      );
      printLoad(`${label}, ${n} granules, ${state}`, load);
      cost.set(`${label}/${n}/${state}`, onRedis ? load.redisUsPerCall : load.nodeUsPerCall);
    }
    await admin.flushall();
  }
}
console.log('  growth of cost per call from 60 to 3600 granules (linear would be 60x):');
for (const label of ['sluice memory', 'sluice redis', 'upstream design redis']) {
  const unit = label.endsWith('redis') ? 'redis CPU' : 'node CPU';
  const growth = (['fixed', 'sliding', 'limited'] as const).map(
    (state) =>
      `${state} ${fmt(cost.get(`${label}/3600/${state}`)! / cost.get(`${label}/60/${state}`)!, 2)}x`,
  );
  const sublinear = (['fixed', 'sliding', 'limited'] as const).every(
    (state) => cost.get(`${label}/3600/${state}`)! / cost.get(`${label}/60/${state}`)! < 60,
  );
  console.log(
    `  ${label.padEnd(24)} (${unit}): ${growth.join(', ')}${label.startsWith('sluice') ? `   sub-linear: ${verdict(sublinear)}` : ''}`,
  );
}

client.disconnect();
admin.disconnect();
await server.stop();
