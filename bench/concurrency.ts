// Acquire+release pairs per second of sluice's ConcurrencyLimiter against redis-semaphore's
// Semaphore (ioredis), on one private Redis in the same run, at contention 1, 16 and 64 (callers
// looping on one key), with a free slot for every caller and with four slots to fight over.
// Then the latency figures the tests only bound (waitSeconds, abort, hand-over), and a clock
// skew check the peer cannot pass.
// Usage: node --import tsx bench/concurrency.ts [--duration-ms 3000] [--rounds 3]

import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { ConcurrencyLimiter } from '@sluice/core';
import { RedisStore } from '@sluice/core/redis';
import { closedLoop, fmt, type LoadResult, percentile } from '@sluice/test-support/load';
import { benchRedis, redisCpuSeconds } from '@sluice/test-support/redis';
import { Semaphore } from 'redis-semaphore';

const { values: args } = parseArgs({
  options: { 'duration-ms': { type: 'string' }, rounds: { type: 'string' } },
});

const durationMs = Number(args['duration-ms']) || 3000;
const rounds = Number(args.rounds) || 3;
const CONTENTION = [1, 16, 64];
const CONTENDED_LIMIT = 4;
const TARGET = 1.2;
const LEASE_SECONDS = 10; // the peer's default lockTimeout, for both

const redisOptions = { maxRetriesPerRequest: 1 } as const;
const redis = await benchRedis(redisOptions);
const { admin } = redis;
const client = () => redis.client();
let keySequence = 0;

console.log(
  `node ${process.version}, redis-server ${redis.version}, ioredis options ${JSON.stringify(redisOptions)} for both`,
);
const load = () =>
  loadavg()
    .map((l) => fmt(l, 2))
    .join(' ');
console.log(
  `${cpus().length} CPUs, load average at start ${load()} (other work on the machine skews figures)`,
);
console.log(
  `closed loop, ${durationMs} ms per run (+300 ms warm-up), ${rounds} interleaved round(s) per configuration, median kept`,
);
console.log(
  `sluice: ConcurrencyLimiter { limit, leaseSeconds: ${LEASE_SECONDS}, waitSeconds: 30 } (default retryIntervalSeconds 1, jittered), RedisStore defaults (timeoutMs 200, maxBatch 16)`,
);
console.log(
  `peer: redis-semaphore Semaphore(client, key, limit, { lockTimeout: ${LEASE_SECONDS * 1000}, acquireTimeout: 30000 }) with its documented defaults (retryInterval 10 ms, refreshInterval 0.8 x lockTimeout), a new Semaphore per pair as its README does`,
);
console.log('one pair = acquire (waiting when the key is full) + release; one key per run\n');

type Pair = () => Promise<void>;
const sluicePair = (limit: number): Pair => {
  const limiter = new ConcurrencyLimiter(new RedisStore(client(), { prefix: 'bench' }), {
    limit,
    leaseSeconds: LEASE_SECONDS,
    waitSeconds: 30,
  });
  const key = `k${++keySequence}`;
  return async () => {
    const lease = await limiter.acquire(key);
    if (lease === null) throw new Error('sluice: no slot within 30 s');
    await lease.release();
  };
};
const peerPair = (limit: number): Pair => {
  const redis = client();
  const key = `k${++keySequence}`;
  return async () => {
    const semaphore = new Semaphore(redis, key, limit, {
      lockTimeout: LEASE_SECONDS * 1000,
      acquireTimeout: 30_000,
    });
    await semaphore.acquire();
    await semaphore.release();
  };
};

/** Commands Redis ran so far (from INFO commandstats). */
async function redisCommands(): Promise<number> {
  const stats = await admin.info('commandstats');
  let calls = 0;
  for (const match of stats.matchAll(/cmdstat_(\w+):calls=(\d+)/g)) {
    if (match[1] !== 'info') calls += Number(match[2]);
  }
  return calls;
}

interface Run {
  result: LoadResult;
  redisUsPerPair: number;
  commandsPerPair: number;
}
async function measureOnce(pair: Pair, contention: number): Promise<Run> {
  await closedLoop(pair, { concurrency: contention, durationMs: 300, warmupMs: 0 });
  const cpu = await redisCpuSeconds(admin);
  const commands = await redisCommands();
  const result = await closedLoop(pair, { concurrency: contention, durationMs, warmupMs: 0 });
  return {
    result,
    redisUsPerPair: (((await redisCpuSeconds(admin)) - cpu) * 1e6) / result.ops,
    commandsPerPair: ((await redisCommands()) - commands) / result.ops,
  };
}
const median = (runs: Run[]) =>
  [...runs].sort((a, b) => a.result.perSecond - b.result.perSecond)[Math.floor(runs.length / 2)]!;

/** Rounds alternate which peer goes first, so a change of load on the machine hits both. */
async function compare(limit: number, contention: number): Promise<[Run, Run]> {
  const ours: Run[] = [];
  const peers: Run[] = [];
  for (let round = 0; round < rounds; round++) {
    if (round % 2 === 0) {
      ours.push(await measureOnce(sluicePair(limit), contention));
      peers.push(await measureOnce(peerPair(limit), contention));
    } else {
      peers.push(await measureOnce(peerPair(limit), contention));
      ours.push(await measureOnce(sluicePair(limit), contention));
    }
  }
  return [median(ours), median(peers)];
}

const describeRun = (name: string, run: Run) =>
  `  ${name.padEnd(16)} ${fmt(run.result.perSecond).padStart(9)} pairs/s  p50=${fmt(run.result.p50Ms, 2)}ms  p99=${fmt(run.result.p99Ms, 2)}ms  node=${fmt(run.result.cpuUsPerOp, 1)}us  redis=${fmt(run.redisUsPerPair, 1)}us  ${fmt(run.commandsPerPair, 2)} commands/pair`;

let missed = 0;
const verdicts: string[] = [];
for (const scenario of ['a free slot per caller', `${CONTENDED_LIMIT} slots`] as const) {
  console.log(`-- ${scenario}`);
  for (const contention of CONTENTION) {
    const limit = scenario === 'a free slot per caller' ? contention : CONTENDED_LIMIT;
    if (scenario !== 'a free slot per caller' && contention <= limit) continue;
    console.log(`contention ${contention}, limit ${limit}:`);
    const [ours, peer] = await compare(limit, contention);
    console.log(describeRun('sluice', ours));
    console.log(describeRun('redis-semaphore', peer));
    const ratio = ours.result.perSecond / peer.result.perSecond;
    const held = ratio >= TARGET;
    if (!held) missed++;
    const verdict = `contention ${String(contention).padEnd(3)} limit ${String(limit).padEnd(3)} sluice / redis-semaphore ${fmt(ratio, 2)}x  target >= ${TARGET}x  ${held ? 'held' : 'MISSED'}`;
    verdicts.push(verdict);
    console.log(`  ${verdict}`);
  }
}

// Latency figures the tests bound at 250 ms: how late a wait ends, how fast an abort ends it,
// and how fast a slot released in this process reaches a local waiter.
console.log('\n-- latency on Redis (sluice, default retryIntervalSeconds 1)');
const limiter = new ConcurrencyLimiter(new RedisStore(client(), { prefix: 'latency' }), {
  limit: 1,
  leaseSeconds: LEASE_SECONDS,
});
const TRIALS = 30;
const summary = (label: string, values: number[]) => {
  values.sort((a, b) => a - b);
  console.log(
    `  ${label.padEnd(44)} p50=${fmt(percentile(values, 0.5), 2)}ms  p99=${fmt(percentile(values, 0.99), 2)}ms  max=${fmt(values.at(-1)!, 2)}ms  (${values.length} trials)`,
  );
};
const holder = (await limiter.acquire('full'))!;
const late: number[] = [];
for (let i = 0; i < TRIALS; i++) {
  const started = performance.now();
  await limiter.acquire('full', { waitSeconds: 0.2 });
  late.push(performance.now() - started - 200);
}
summary('waitSeconds 0.2 on a full key: ends late by', late);
const abortLag: number[] = [];
for (let i = 0; i < TRIALS; i++) {
  const abort = new AbortController();
  const waiting = limiter.acquire('full', { waitSeconds: 30, signal: abort.signal });
  await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 80));
  const aborted = performance.now();
  abort.abort();
  await waiting;
  abortLag.push(performance.now() - aborted);
}
summary('abort during a wait: resolves after', abortLag);
await holder.release();
const handOver: number[] = [];
for (let i = 0; i < TRIALS; i++) {
  const first = (await limiter.acquire('handover'))!;
  const waiting = limiter.acquire('handover', { waitSeconds: 30 });
  await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 80));
  const released = performance.now();
  await first.release();
  const next = await waiting;
  handOver.push(performance.now() - released);
  await next?.release();
}
summary('release -> local waiter holds the slot after', handOver);

// Lease times: a caller whose clock runs 15 s ahead (more than the 10 s lease) must not evict
// live holders. The peer stamps leases with the caller's Date.now(); sluice with Redis TIME.
console.log('\n-- clock skew: 2 live holders of limit 2, then a caller whose clock is 15 s ahead');
const realNow = Date.now;
const skewed = async (acquire: () => Promise<boolean>) => {
  Date.now = () => realNow() + 15_000;
  try {
    return await acquire();
  } finally {
    Date.now = realNow;
  }
};
const peerClient = client();
const peerHolders = [1, 2].map(
  () => new Semaphore(peerClient, 'skew', 2, { lockTimeout: 10_000, refreshInterval: 0 }),
);
for (const s of peerHolders) await s.acquire();
const intruder = new Semaphore(peerClient, 'skew', 2, {
  lockTimeout: 10_000,
  acquireAttemptsLimit: 1,
  refreshInterval: 0,
});
const peerAdmitted = await skewed(() => intruder.tryAcquire());
console.log(
  `  redis-semaphore: skewed caller ${peerAdmitted ? 'ADMITTED (evicted a live holder: 3 holders of limit 2)' : 'refused'}`,
);
const skewLimiter = new ConcurrencyLimiter(new RedisStore(client(), { prefix: 'skew' }), {
  limit: 2,
  leaseSeconds: 10,
});
const ourHolders = [await skewLimiter.acquire('skew'), await skewLimiter.acquire('skew')];
const ourAdmitted = (await skewed(() =>
  skewLimiter.acquire('skew').then((l) => l !== null),
)) as boolean;
console.log(
  `  sluice:          skewed caller ${ourAdmitted ? 'ADMITTED' : 'refused (leases are stamped with Redis TIME)'}`,
);
if (ourAdmitted) missed++;
for (const l of ourHolders) await l?.release();

console.log(`\nload average at the end ${load()}`);
console.log('summary:');
for (const verdict of verdicts) console.log(`  ${verdict}`);
console.log(missed === 0 ? 'all targets held' : `${missed} target(s) missed`);

await redis.close();
