// sluice's two-quota decision on Redis against RateLimiterRedis, by the method of issue 10:
// a closed loop keeping c checks in flight (c = 1, 16, 64, 256); 1,000 projects round-robin, all
// in organization 1 (a project quota and an organization quota 1,000 times larger that never
// binds); 60 s windows; a pass mode (limit 1e9: every check passes) and a half-exhausted mode
// (every other check hits one of 100 projects exhausted beforehand); 20,000 checks per run
// (10,000 at c=1); each adapter in a fresh process per run, peer and sluice alternating first;
// 3 repetitions, ratios paired per repetition, medians printed. Redis CPU per decision is the
// redis-server's CPU time (INFO cpu) over the measured checks; INFO commandstats' script time
// (CONFIG RESETSTAT right before them) is printed beside it.
// Both sides use an ioredis client with default options; sluice's RedisStore has timeoutMs 2000
// so a loaded machine slows the figures instead of failing decisions.
//
// Usage: node --import tsx bench/quotas-redis.ts [--reps 3] [--checks 20000] [--only pass|half]
//        [--concurrency 1,16,64,256]

import { spawn } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { organizationQuota, projectQuota, Quotas } from '@sluice/core';
import { nodeRedisClient, RedisStore } from '@sluice/core/redis';
import { fmt, percentile } from '@sluice/test-support/load';
import { benchRedis, redisCpuSeconds } from '@sluice/test-support/redis';
import { Redis } from 'ioredis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { createClient } from 'redis';

const { values: args } = parseArgs({
  options: {
    adapter: { type: 'string' },
    c: { type: 'string' },
    checks: { type: 'string' },
    child: { type: 'boolean' },
    concurrency: { type: 'string' },
    mode: { type: 'string' },
    only: { type: 'string' },
    reps: { type: 'string' },
    run: { type: 'string' },
    url: { type: 'string' },
  },
});

const PROJECTS = 1000;
const EXHAUSTED = 100;
const PASS_LIMIT = 1e9;
const WINDOW_SECONDS = 60;
const ADAPTERS = ['RateLimiterRedis', 'sluice', 'sluice-node-redis'] as const;
type Adapter = (typeof ADAPTERS)[number];
type Mode = 'pass' | 'half';

/** What one child process measured. */
interface RunResult {
  readonly adapter: Adapter;
  readonly mode: Mode;
  readonly concurrency: number;
  readonly checks: number;
  readonly limited: number;
  readonly perSecond: number;
  readonly p50Us: number;
  readonly p99Us: number;
  /** This process's CPU per check. */
  readonly nodeUs: number;
  /** Redis command time per check (INFO commandstats). */
  readonly redisUs: number;
  /** redis-server's whole CPU (INFO cpu: parsing, replies, networking too) per check. */
  readonly serverUs: number;
  /** Commands clients sent per check. */
  readonly commands: number;
  /** Every command's calls, nested ones included. */
  readonly detail: string;
}

/** A check of the adapter: resolves true when limited. */
type Check = (i: number) => Promise<boolean>;

async function makeCheck(adapter: Adapter, mode: Mode, url: string, run: string): Promise<Check> {
  const client = new Redis(url);
  // Every other check of the half mode goes to an exhausted project (ids PROJECTS..+EXHAUSTED).
  const projectOf = (i: number) =>
    mode === 'half' && i % 2 === 1 ? PROJECTS + ((i >> 1) % EXHAUSTED) : i % PROJECTS;
  if (adapter === 'RateLimiterRedis') {
    const limiter = new RateLimiterRedis({
      storeClient: client,
      keyPrefix: `rlf${run}`,
      points: PASS_LIMIT,
      duration: WINDOW_SECONDS,
    });
    for (let p = PROJECTS; p < PROJECTS + EXHAUSTED && mode === 'half'; p++) {
      await limiter.consume(String(p), PASS_LIMIT);
    }
    return (i) =>
      limiter.consume(String(projectOf(i)), 1).then(
        () => false,
        (refusal: unknown) => {
          if (refusal instanceof Error) throw refusal;
          return true;
        },
      );
  }
  // The same engine on the official client (node-redis v5, default options) or on ioredis.
  const storeClient =
    adapter === 'sluice-node-redis'
      ? nodeRedisClient(await createClient({ url }).connect())
      : client;
  const quotas = new Quotas({
    store: new RedisStore(storeClient, { prefix: `s${run}`, timeoutMs: 2000 }),
    getQuotas: (project) => [
      projectQuota(project, { limit: PASS_LIMIT, windowSeconds: WINDOW_SECONDS }),
      organizationQuota(project, { limit: PASS_LIMIT * 1000, windowSeconds: WINDOW_SECONDS }),
    ],
  });
  const projects = Array.from({ length: PROJECTS + EXHAUSTED }, (_, id) => ({
    id,
    organizationId: 1,
  }));
  for (let p = PROJECTS; p < PROJECTS + EXHAUSTED && mode === 'half'; p++) {
    await quotas.isRateLimited(projects[p]!, { quantity: PASS_LIMIT });
  }
  return (i) => quotas.isRateLimited(projects[projectOf(i)]!).then((r) => r.isLimited);
}

/** Commands whose time includes the commands they run (a script's calls count twice otherwise). */
const SCRIPT_COMMANDS = new Set(['evalsha', 'eval', 'evalsha_ro', 'eval_ro', 'fcall', 'fcall_ro']);

/**
 * Redis's command time and commands from INFO commandstats, counting what clients sent: a
 * script's own command time already holds the commands it calls, which commandstats also lists
 * on their own, so with scripts in use only the script commands (and MULTI/EXEC's members) count.
 */
async function commandStats(
  admin: Redis,
): Promise<{ usec: number; calls: number; detail: string }> {
  const info = await admin.info('commandstats');
  const rows = [...info.matchAll(/cmdstat_(\w+):calls=(\d+),usec=(\d+)/g)]
    .map((m) => ({ name: m[1]!, calls: Number(m[2]), usec: Number(m[3]) }))
    .filter((row) => row.name !== 'info' && row.name !== 'config');
  const scripted = rows.some((row) => SCRIPT_COMMANDS.has(row.name));
  const counted = scripted ? rows.filter((row) => SCRIPT_COMMANDS.has(row.name)) : rows;
  return {
    usec: counted.reduce((sum, row) => sum + row.usec, 0),
    calls: counted.reduce((sum, row) => sum + row.calls, 0),
    detail: rows.map((row) => `${row.name}=${row.calls}`).join(' '),
  };
}

/** Keeps `concurrency` checks in flight until `checks` have run; latencies in microseconds. */
async function closedLoop(check: Check, concurrency: number, checks: number, latencies: number[]) {
  let next = 0;
  let limited = 0;
  const caller = async () => {
    while (next < checks) {
      const i = next++;
      const start = performance.now();
      if (await check(i)) limited++;
      latencies.push((performance.now() - start) * 1000);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, caller));
  return limited;
}

async function child(): Promise<void> {
  const adapter = args.adapter as Adapter;
  const mode = args.mode as Mode;
  const concurrency = Number(args.c);
  const checks = Number(args.checks);
  const url = args.url!;
  const admin = new Redis(url);
  const check = await makeCheck(adapter, mode, url, args.run!);
  // Warm-up: JIT, connections, scripts loaded, every project's keys created.
  await closedLoop(check, concurrency, Math.max(2000, PROJECTS * 2), []);
  await admin.config('RESETSTAT');
  const serverCpu = await redisCpuSeconds(admin);
  const latencies: number[] = [];
  const cpu = process.cpuUsage();
  const started = performance.now();
  const limited = await closedLoop(check, concurrency, checks, latencies);
  const elapsedMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  const serverUs = (((await redisCpuSeconds(admin)) - serverCpu) * 1e6) / checks;
  const stats = await commandStats(admin);
  latencies.sort((a, b) => a - b);
  const result: RunResult = {
    adapter,
    mode,
    concurrency,
    checks,
    limited,
    perSecond: (checks / elapsedMs) * 1000,
    p50Us: percentile(latencies, 0.5),
    p99Us: percentile(latencies, 0.99),
    nodeUs: (used.user + used.system) / checks,
    redisUs: stats.usec / checks,
    serverUs,
    commands: stats.calls / checks,
    detail: stats.detail,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

function runChild(args: string[]): Promise<RunResult> {
  const script = fileURLToPath(import.meta.url);
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', script, '--child', ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    proc.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    proc.once('exit', (code) => {
      const line = out.trim().split('\n').at(-1) ?? '';
      if (code === 0 && line.startsWith('{')) resolve(JSON.parse(line) as RunResult);
      else reject(new Error(`child ${args.join(' ')} exited ${code}: ${out}`));
    });
  });
}

const median = (values: number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    0.5,
  );

async function parent(): Promise<void> {
  const reps = Number(args.reps) || 3;
  const checks = Number(args.checks) || 20_000;
  const only = args.only as Mode | undefined;
  const modes: Mode[] = only ? [only] : ['pass', 'half'];
  const levels = (args.concurrency ?? '1,16,64,256').split(',').map(Number);
  const redis = await benchRedis({});
  console.log(
    `node ${process.version}, redis-server ${redis.version}, ${cpus().length} cores, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} at start`,
  );
  console.log(
    `${checks} checks per run (${checks / 2} at c=1), ${reps} reps, each adapter in a fresh process per run; ` +
      `${PROJECTS} projects round-robin in organization 1`,
  );
  console.log(
    'RateLimiterRedis({ storeClient, keyPrefix, points: 1e9, duration: 60 }) vs sluice Quotas (project + organization quota), both on ioredis defaults; sluice also on node-redis v5 defaults\n',
  );
  const results: RunResult[][] = [];
  let run = 0;
  for (let rep = 0; rep < reps; rep++) {
    const round: RunResult[] = [];
    for (const mode of modes) {
      for (const c of levels) {
        const order = (rep + c) % 2 === 0 ? ADAPTERS : [...ADAPTERS].reverse();
        for (const adapter of order) {
          const n = c === 1 ? checks / 2 : checks;
          const args = ['--adapter', adapter, '--mode', mode, '--c', String(c)];
          const result = await runChild([
            ...args,
            '--checks',
            String(n),
            '--url',
            redis.url,
            '--run',
            String(run++),
          ]);
          round.push(result);
          console.log(
            `rep ${rep + 1} ${mode.padEnd(4)} c=${String(c).padEnd(3)} ${adapter.padEnd(17)} ${fmt(result.perSecond).padStart(7)}/s ` +
              `p50 ${fmt(result.p50Us).padStart(5)} us  p99 ${fmt(result.p99Us).padStart(6)} us  node ${fmt(result.nodeUs, 1)} us  ` +
              `redis ${fmt(result.redisUs, 2)} us (${fmt(result.commands, 3)} cmds), server ${fmt(result.serverUs, 1)} us/check  limited ${result.limited}  [${result.detail}]`,
          );
        }
      }
    }
    results.push(round);
  }
  await redis.close();

  console.log(
    '\n| mode | c | RateLimiterRedis checks/s | sluice checks/s | ratio per rep | median ratio | sluice on node-redis checks/s (ratio) | p50 us (peer / sluice) | p99 us (peer / sluice) | redis-server CPU us per decision (peer / sluice) | script time us per decision, commandstats (peer / sluice) |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  const pick = (round: RunResult[], adapter: Adapter, mode: Mode, c: number) =>
    round.find((r) => r.adapter === adapter && r.mode === mode && r.concurrency === c)!;
  const verdicts: string[] = [];
  for (const mode of modes) {
    for (const c of levels) {
      const peer = results.map((round) => pick(round, 'RateLimiterRedis', mode, c));
      const ours = results.map((round) => pick(round, 'sluice', mode, c));
      const ratios = ours.map((o, i) => o.perSecond / peer[i]!.perSecond);
      const official = results.map((round) => pick(round, 'sluice-node-redis', mode, c));
      const officialRatio = median(official.map((o, i) => o.perSecond / peer[i]!.perSecond));
      const med = (rows: RunResult[], field: keyof RunResult) =>
        median(rows.map((r) => r[field] as number));
      console.log(
        `| ${mode} | ${c} | ${fmt(med(peer, 'perSecond'))} | ${fmt(med(ours, 'perSecond'))} | ${ratios.map((r) => fmt(r, 2)).join(', ')} | ${fmt(median(ratios), 2)}x | ${fmt(med(official, 'perSecond'))} (${fmt(officialRatio, 2)}x) | ${fmt(med(peer, 'p50Us'))} / ${fmt(med(ours, 'p50Us'))} | ${fmt(med(peer, 'p99Us'))} / ${fmt(med(ours, 'p99Us'))} | ${fmt(med(peer, 'serverUs'), 1)} / ${fmt(med(ours, 'serverUs'), 1)} | ${fmt(med(peer, 'redisUs'), 1)} / ${fmt(med(ours, 'redisUs'), 1)} |`,
      );
      const cpuHeld = med(ours, 'serverUs') <= med(peer, 'serverUs');
      verdicts.push(
        `${mode} c=${c}: redis-server CPU per decision ${fmt(med(ours, 'serverUs'), 1)} vs ${fmt(med(peer, 'serverUs'), 1)} us: ${cpuHeld ? 'held' : 'MISSED'}`,
      );
      if (c === 1) {
        const extra = med(ours, 'p50Us') - med(peer, 'p50Us');
        verdicts.push(
          `${mode} c=1: p50 ${fmt(extra)} us above the peer (target <= +10): ${extra <= 10 ? 'held' : 'MISSED'}`,
        );
      } else {
        const goal = c === 16 ? 1.0 : 1.5;
        verdicts.push(
          `${mode} c=${c}: ${fmt(median(ratios), 2)}x (target >= ${goal}x): ${median(ratios) >= goal ? 'held' : 'MISSED'}`,
        );
      }
    }
  }
  console.log(`\n${verdicts.join('\n')}`);
  console.log(
    `load average at end ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
}

if (args.child) await child();
else await parent();
