// CardinalityLimiter on Redis against a plain SADD + SCARD design (issue 16 §2): N scopes × M
// distinct values each, sent in calls of B values with c calls in flight, on a private
// redis-server. Each design runs twice over the same values: "new" (every value is new to its
// scope) and "seen" (every value again). Throughput is values decided per second; memory per
// tracked value is INFO memory used_memory after the "new" pass less before it (FLUSHALL
// first), over N × M, and beside it the sum of MEMORY USAGE <key> SAMPLES 0 over every key (what
// the keys themselves hold, without the allocator's and the clients' noise); Redis us/value is the command time INFO commandstats counts (CONFIG
// RESETSTAT before each pass; a script's time includes the commands it calls) over N × M.
//
// sluice: one checkAndUseQuotas call per batch, quota 1 h in 60 s granules, limit M (every value
// fits, so memory is that of M tracked values per scope): one EVALSHA per call, atomic per scope;
// values kept as 53-bit hashes in one sorted set per scope.
// sadd+scard: a pipeline of SADD key <B values>, SCARD key, EXPIRE key 3600 per batch, the
// values as they are (a fixed window, no decision per value, no atomic refusal: it only counts);
// "sadd+scard hashed" is the same with the 53-bit hashes sluice stores.
// Every client is ioredis with default options; RedisStore has timeoutMs 5000 so a loaded
// machine slows the figures instead of failing calls.
//
// Usage: node --import tsx bench/cardinality.ts [--sizes 1000x100,100x1000,10x10000]
//        [--batch 100] [--concurrency 16]

import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { CardinalityLimiter, Quota, valueHash } from '@sluice/core';
import { RedisStore } from '@sluice/core/redis';
import { fmt } from '@sluice/test-support/load';
import { benchRedis } from '@sluice/test-support/redis';
import type { Redis } from 'ioredis';

const { values: args } = parseArgs({
  options: {
    batch: { type: 'string' },
    concurrency: { type: 'string' },
    sizes: { type: 'string' },
  },
});

const DESIGNS = ['sluice', 'sadd+scard', 'sadd+scard hashed'] as const;
type Design = (typeof DESIGNS)[number];

const sizes = (args.sizes ?? '1000x100,100x1000,10x10000').split(',').map((s) => {
  const [scopes, values] = s.split('x').map(Number);
  return { scopes: scopes!, values: values! };
});
const batch = Number(args.batch ?? 100);
const concurrency = Number(args.concurrency ?? 16);

/** One call: a scope and a batch of its values. */
interface Call {
  readonly scope: string;
  readonly values: string[];
}

function callsFor(scopes: number, values: number): Call[] {
  const calls: Call[] = [];
  for (let s = 0; s < scopes; s++) {
    for (let from = 0; from < values; from += batch) {
      const chunk: string[] = [];
      for (let i = from; i < Math.min(values, from + batch); i++) {
        chunk.push(`d:custom/scope${s}.metric_${i}.duration@millisecond`);
      }
      calls.push({ scope: `org:${s}`, values: chunk });
    }
  }
  return calls;
}

/** Runs `calls` with `concurrency` in flight; resolves to the seconds it took. */
async function run(calls: Call[], send: (call: Call) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < calls.length) await send(calls[next++]!);
    }),
  );
  return Number(process.hrtime.bigint() - started) / 1e9;
}

function sender(design: Design, client: Redis, values: number): (call: Call) => Promise<unknown> {
  if (design === 'sluice') {
    const limiter = new CardinalityLimiter(new RedisStore(client, { timeoutMs: 5000 }));
    const quota = new Quota({ windowSeconds: 3600, granularitySeconds: 60, limit: values });
    return async ({ scope, values: batchValues }) => {
      const [grant] = await limiter.checkAndUseQuotas([
        { prefix: scope, values: batchValues, quota },
      ]);
      if (grant!.refusedValues.length > 0)
        throw new Error('sluice refused a value under its limit');
    };
  }
  const hashed = design === 'sadd+scard hashed';
  const windowIndex = Math.floor(Date.now() / 3_600_000);
  return async ({ scope, values: batchValues }) => {
    const key = `card:{${scope}}:${windowIndex}`;
    const members = hashed ? batchValues.map((v) => String(valueHash(v))) : batchValues;
    const replies = await client
      .pipeline()
      .sadd(key, ...members)
      .scard(key)
      .expire(key, 3600)
      .exec();
    for (const [error] of replies ?? []) if (error) throw error;
  };
}

/** Microseconds Redis spent in commands since the last CONFIG RESETSTAT (INFO commandstats). */
async function commandUs(admin: Redis): Promise<number> {
  const info = await admin.info('commandstats');
  let total = 0;
  for (const match of info.matchAll(/^cmdstat_(\w+):calls=\d+,usec=(\d+)/gm)) {
    if (match[1] !== 'info' && match[1] !== 'config') total += Number(match[2]);
  }
  return total;
}

/** Bytes every key holds, as MEMORY USAGE (SAMPLES 0: every element) counts them. */
async function keysMemory(admin: Redis): Promise<number> {
  let total = 0;
  let cursor = '0';
  do {
    const [next, keys] = await admin.scan(cursor, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) total += Number(await admin.memory('USAGE', key, 'SAMPLES', 0));
  } while (cursor !== '0');
  return total;
}

async function usedMemory(admin: Redis): Promise<number> {
  const info = await admin.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)![1]);
}

async function main(): Promise<void> {
  const redis = await benchRedis({});
  console.log(
    `redis-server ${redis.version} (private, default config), node ${process.version}, ` +
      `${cpus().length} cores, load ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
  );
  console.log(`batch ${batch} values per call, ${concurrency} calls in flight, ioredis defaults\n`);
  console.log(
    '| scopes x values | design | new: values/s | seen: values/s | new: Redis us/value | ' +
      'seen: Redis us/value | used_memory delta per value (B) | MEMORY USAGE per value (B) | encoding |',
  );
  console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  try {
    for (const { scopes, values } of sizes) {
      const calls = callsFor(scopes, values);
      for (const design of DESIGNS) {
        const client = redis.client();
        await redis.admin.flushall();
        await redis.admin.call('MEMORY', 'PURGE');
        const send = sender(design, client, values);
        await send({ scope: 'warmup', values: ['w'] });
        await redis.admin.flushall();
        const before = await usedMemory(redis.admin);
        await redis.admin.config('RESETSTAT');
        const fresh = await run(calls, send);
        const freshUs = await commandUs(redis.admin);
        const after = await usedMemory(redis.admin);
        const held = await keysMemory(redis.admin);
        await redis.admin.config('RESETSTAT');
        const seen = await run(calls, send);
        const seenUs = await commandUs(redis.admin);
        const key = await redis.admin.randomkey();
        const encoding = key === null ? '?' : await redis.admin.object('ENCODING', key);
        const total = scopes * values;
        console.log(
          `| ${fmt(scopes)} x ${fmt(values)} | ${design} | ${fmt(total / fresh)} | ` +
            `${fmt(total / seen)} | ${fmt(freshUs / total, 2)} | ${fmt(seenUs / total, 2)} | ` +
            `${fmt((after - before) / total, 1)} | ${fmt(held / total, 1)} | ${encoding} |`,
        );
      }
    }
  } finally {
    await redis.close();
  }
}

await main();
