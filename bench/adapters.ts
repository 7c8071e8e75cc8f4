// The adapters under load: autocannon against each framework served by a child process of its
// own on loopback, bare, with sluice on memory and on a private Redis, and with the framework's
// popular limiter on memory and on the same Redis (express-rate-limit + rate-limit-redis,
// @fastify/rate-limit, koa-ratelimit), all limiting per project with one limit and window, in
// the same run. Requests are spread over 100 projects, each with its own Sentry key. Two runs:
// pass-through (the limit is never reached) and over quota (the quotas are used up during the
// warm-up, so nearly every measured request is refused). Prints req/s, p50/p99, server and
// redis-server CPU per request, Redis commands per request, the ratios, and the targets,
// each held or MISSED.
//
// Usage: pnpm build && node --import tsx bench/adapters.ts [--duration-ms 1000] [--connections 50]
//        [--rounds 5] [--only express|koa|fastify] [--configs bare,sluice-memory,...]
// Each config is measured in `rounds` rounds of `duration-ms`, interleaved with the others of its
// scenario, after a 1 s warm-up; the figures printed are the medians over the rounds.

import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { fmt } from '@sluice/test-support/load';
import { redisCpuSeconds, startRedisServer } from '@sluice/test-support/redis';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import {
  CONFIGS,
  type ConfigName,
  FRAMEWORKS,
  type FrameworkName,
  keyOf,
  PROJECT_COUNT,
  REDIS_OPTIONS,
  WINDOW_SECONDS,
} from './adapters-server.ts';

const { values: args } = parseArgs({
  options: {
    configs: { type: 'string' },
    connections: { type: 'string' },
    'duration-ms': { type: 'string' },
    only: { type: 'string' },
    rounds: { type: 'string' },
  },
});

const durationMs = Number(args['duration-ms']) || 1000;
const warmupMs = 1000;
const connections = Number(args.connections) || 50;
const only = args.only;
/** `--configs bare,sluice-memory` measures only those (the targets that need others are skipped). */
const configs = (args.configs?.split(',') ?? CONFIGS) as ConfigName[];
const rounds = Number(args.rounds) || 5;
const PASS_LIMIT = 1_000_000_000;
const OVER_LIMIT = 10;
const SERVER = fileURLToPath(new URL('./adapters-server.ts', import.meta.url));

const PEERS: Record<FrameworkName, string> = {
  express: 'express-rate-limit 8 (+ rate-limit-redis 6 on Redis)',
  koa: 'koa-ratelimit 6 (memory driver / redis driver)',
  fastify: '@fastify/rate-limit 11 (local store / ioredis)',
};
const VERSIONS: Record<FrameworkName, string> = {
  express: 'Express 5',
  koa: 'Koa 3',
  fastify: 'Fastify 5',
};

/** The 100 requests every connection cycles through: one project each, its key in X-Sentry-Auth. */
const REQUESTS = Array.from({ length: PROJECT_COUNT }, (_, i) => ({
  method: 'GET' as const,
  path: `/api/${i + 1}/store/`,
  headers: {
    'x-sentry-auth': `Sentry sentry_key=${keyOf(i + 1)}, sentry_version=7, sentry_client=bench/1.0`,
  },
}));

interface Measured {
  perSecond: number;
  p50: number;
  p99: number;
  requests: number;
  refused: number;
  errors: number;
  serverCpuUs: number;
  redisCpuUs: number;
  /** Commands Redis ran per request, those inside scripts included. */
  redisCommands: number;
  /** EVALSHA and EVAL calls per request: script round trips (batched ones count once). */
  redisScripts: number;
}

const redis = await startRedisServer();
const admin = new Redis(redis.url, REDIS_OPTIONS);

async function redisCounters(): Promise<{ cpu: number; commands: number; scripts: number }> {
  const stats = await admin.info('stats');
  const commands = Number(/total_commands_processed:(\d+)/.exec(stats)?.[1] ?? 0);
  let scripts = 0;
  const commandstats = await admin.info('commandstats');
  for (const match of commandstats.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+)/gm)) {
    scripts += Number(match[1]);
  }
  return { cpu: await redisCpuSeconds(admin), commands, scripts };
}

function cannon(port: number, ms: number): Promise<autocannon.Result> {
  const run = autocannon({
    url: `http://127.0.0.1:${port}`,
    connections,
    duration: ms / 1000,
    requests: REQUESTS,
    timeout: 5,
  });
  const watchdog = setTimeout(() => run.stop(), ms + 10_000);
  return run.then((result) => {
    clearTimeout(watchdog);
    return result;
  });
}

async function childCpuUs(child: ChildProcess): Promise<number> {
  child.send('cpu');
  const [message] = (await once(child, 'message')) as [{ cpu: NodeJS.CpuUsage }];
  return message.cpu.user + message.cpu.system;
}

interface Server {
  readonly config: ConfigName;
  readonly child: ChildProcess;
  readonly port: number;
}

async function startServer(
  framework: FrameworkName,
  config: ConfigName,
  limit: number,
): Promise<Server> {
  const child = fork(SERVER, [framework, config, String(limit), redis.url], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const [ready] = (await once(child, 'message')) as [{ port: number }];
  return { config, child, port: ready.port };
}

async function stopServer({ child }: Server): Promise<void> {
  child.kill('SIGKILL');
  if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
}

/**
 * Measures every config of one scenario: all servers start (idle until driven), each is warmed
 * up, then `rounds` rounds drive them one at a time in a rotating order, so background load on a
 * shared machine falls on every config alike. Each figure is the median over the rounds.
 */
async function measureAll(
  framework: FrameworkName,
  list: readonly ConfigName[],
  limit: number,
): Promise<Map<ConfigName, Measured>> {
  await admin.flushall();
  const servers = await Promise.all(list.map((config) => startServer(framework, config, limit)));
  try {
    for (const server of servers) await cannon(server.port, warmupMs);
    const samples = new Map<ConfigName, Measured[]>(list.map((config) => [config, []]));
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < servers.length; i++) {
        const server = servers[(i + round) % servers.length]!;
        samples.get(server.config)!.push(await measureRound(server.child, server.port));
      }
    }
    return new Map([...samples].map(([config, rows]) => [config, medians(rows)]));
  } finally {
    await Promise.all(servers.map(stopServer));
  }
}

/** The median of each figure over the rounds. */
function medians(rows: Measured[]): Measured {
  const median = (pick: (m: Measured) => number) => {
    const sorted = rows.map(pick).sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  };
  return {
    perSecond: median((m) => m.perSecond),
    p50: median((m) => m.p50),
    p99: median((m) => m.p99),
    requests: median((m) => m.requests),
    refused: median((m) => m.refused),
    errors: rows.reduce((sum, m) => sum + m.errors, 0),
    serverCpuUs: median((m) => m.serverCpuUs),
    redisCpuUs: median((m) => m.redisCpuUs),
    redisCommands: median((m) => m.redisCommands),
    redisScripts: median((m) => m.redisScripts),
  };
}

/** One measured round against a warm server. */
async function measureRound(child: ChildProcess, port: number): Promise<Measured> {
  const cpuBefore = await childCpuUs(child);
  const redisBefore = await redisCounters();
  const result = await cannon(port, durationMs);
  const cpuAfter = await childCpuUs(child);
  const redisAfter = await redisCounters();
  const requests = result.requests.total;
  return {
    perSecond: requests / (durationMs / 1000),
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests,
    refused: result.non2xx,
    errors: result.errors + result.timeouts,
    serverCpuUs: (cpuAfter - cpuBefore) / requests,
    redisCpuUs: ((redisAfter.cpu - redisBefore.cpu) * 1e6) / requests,
    // The INFO calls of one reading (three) are the bench's own.
    redisCommands: Math.max(0, redisAfter.commands - redisBefore.commands - 3) / requests,
    redisScripts: (redisAfter.scripts - redisBefore.scripts) / requests,
  };
}

const LABELS: Record<ConfigName, string> = {
  bare: 'bare',
  'sluice-memory': 'sluice, memory',
  'sluice-redis': 'sluice, Redis',
  'peer-memory': 'peer, memory',
  'peer-redis': 'peer, Redis',
};

function table(title: string, rows: Array<[ConfigName, Measured]>): void {
  const columns: Array<[string, string, (m: Measured) => string]> = [
    ['req/s', '', (m) => fmt(m.perSecond)],
    ['p50', 'ms', (m) => fmt(m.p50, 1)],
    ['p99', 'ms', (m) => fmt(m.p99, 1)],
    ['server CPU', 'us/req', (m) => fmt(m.serverCpuUs, 1)],
    ['redis CPU', 'us/req', (m) => fmt(m.redisCpuUs, 1)],
    ['redis cmds', 'per req', (m) => fmt(m.redisCommands, 2)],
    ['EVALSHA', 'per req', (m) => fmt(m.redisScripts, 3)],
    ['non-2xx', '', (m) => fmt(m.refused)],
    ['errors', '', (m) => fmt(m.errors)],
  ];
  const width = 11;
  console.log(`\n  ${title}`);
  console.log(`  ${'config'.padEnd(16)}${columns.map(([name]) => name.padStart(width)).join('')}`);
  console.log(`  ${''.padEnd(16)}${columns.map(([, unit]) => unit.padStart(width)).join('')}`);
  for (const [config, m] of rows) {
    console.log(
      `  ${LABELS[config].padEnd(16)}${columns.map(([, , cell]) => cell(m).padStart(width)).join('')}`,
    );
  }
}

const verdicts: string[] = [];
function target(
  framework: FrameworkName,
  what: string,
  value: number | undefined,
  goal: number,
  extra = true,
) {
  if (value === undefined) return;
  const held = value >= goal && extra;
  const line = `${VERSIONS[framework].padEnd(10)} ${what}: ${fmt(value, 2)}x (target >= ${goal}x) ${held ? 'held' : 'MISSED'}`;
  verdicts.push(line);
  console.log(`  ${line}`);
}

console.log(
  `node ${process.version}, redis-server ${(await admin.info('server')).match(/redis_version:(\S+)/)?.[1]}, ` +
    `autocannon ${connections} connections; per config a ${warmupMs} ms warm-up, then ${rounds} rounds of ${durationMs} ms interleaved with the other configs (medians), ` +
    `each server in a child process`,
);
console.log(
  `${PROJECT_COUNT} projects (10 organizations), one per-project limit of the same window (${WINDOW_SECONDS} s) ` +
    `everywhere: pass-through limit ${fmt(PASS_LIMIT)}, over-quota limit ${OVER_LIMIT} (used up in the warm-up)`,
);
console.log(
  'redis cmds per req counts the commands Redis ran, inside scripts too; EVALSHA per req counts ' +
    'script round trips (sluice sends the decisions of one event-loop turn in one EVALSHA)',
);
console.log(
  'sluice: Sentry auth (X-Sentry-Auth) + one project quota; peers keyed by the project id of the path, ' +
    'on their defaults otherwise; every Redis client: ioredis with ' +
    JSON.stringify(REDIS_OPTIONS),
);

for (const framework of FRAMEWORKS) {
  if (only !== undefined && only !== framework) continue;
  console.log(`\n${VERSIONS[framework]}; peer: ${PEERS[framework]}`);
  const pass = await measureAll(framework, configs, PASS_LIMIT);
  table('pass-through (nothing refused)', [...pass]);
  const over = await measureAll(
    framework,
    configs.filter((config) => config !== 'bare'),
    OVER_LIMIT,
  );
  table('over quota (nearly every request refused with 429)', [...over]);

  const rate = (map: Map<ConfigName, Measured>, config: ConfigName) => map.get(config)?.perSecond;
  const ratio = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined ? undefined : a / b;
  console.log('\n  ratios');
  for (const config of ['sluice-memory', 'sluice-redis', 'peer-memory', 'peer-redis'] as const) {
    const toBare = ratio(rate(pass, config), rate(pass, 'bare'));
    const overToPass = ratio(rate(over, config), rate(pass, config));
    if (overToPass === undefined) continue;
    console.log(
      `  ${LABELS[config].padEnd(16)} ${toBare === undefined ? '-' : fmt(toBare, 2)}x bare; ` +
        `over quota ${fmt(overToPass, 2)}x its pass-through`,
    );
  }
  console.log('\n  targets');
  target(
    framework,
    'sluice memory / bare',
    ratio(rate(pass, 'sluice-memory'), rate(pass, 'bare')),
    0.9,
  );
  target(
    framework,
    'sluice Redis / bare',
    ratio(rate(pass, 'sluice-redis'), rate(pass, 'bare')),
    0.75,
  );
  target(
    framework,
    'sluice Redis / peer Redis',
    ratio(rate(pass, 'sluice-redis'), rate(pass, 'peer-redis')),
    1.3,
  );
  const overRedis = over.get('sluice-redis');
  const perRefusal =
    overRedis && (overRedis.redisCommands * overRedis.requests) / Math.max(1, overRedis.refused);
  target(
    framework,
    `sluice Redis over quota / pass-through (${perRefusal === undefined ? '-' : fmt(perRefusal, 4)} Redis commands per refused request, target ~0)`,
    ratio(rate(over, 'sluice-redis'), rate(pass, 'sluice-redis')),
    1.0,
    perRefusal !== undefined && perRefusal < 0.01,
  );
}

console.log('\nsummary');
for (const line of verdicts) console.log(`  ${line}`);
admin.disconnect();
await redis.stop();
