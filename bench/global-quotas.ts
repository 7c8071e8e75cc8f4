// Global quotas (scope: 'global') across three processes on one private Redis.
//
// Paced run: three child processes, each making --rate decisions per second (default 1,000) for
// --seconds against one global quota of --limit per --window seconds (defaults 15,000 per 10 s:
// half of what the fleet asks, so every window fills and then refuses). Prints Redis calls per
// decision (EVALSHA calls from INFO commandstats over the run / decisions; target <= 0.05), the
// largest over-admission of any window (units admitted beyond the limit; the bound is 0, see
// docs/global-quotas.md), and the largest under-admission of a window that refused (units the
// fleet left unspent in slices while refusing), windows read from the engines' own answers.
//
// Throughput run: the same three processes, each a closed loop of --concurrency decisions in
// flight for --flood-seconds, with a limit that never binds, on the global quota and then on the
// same quota as an organization quota (one EVALSHA per decision): decisions per second summed
// over the processes, and the ratio.
//
// Usage: node --import tsx bench/global-quotas.ts [--rate 1000] [--seconds 30] [--limit 15000]
//        [--window 10] [--concurrency 16] [--flood-seconds 5]
// Small scale: node --import tsx bench/global-quotas.ts --seconds 6 --window 2 --limit 3000 --flood-seconds 2

import { spawn } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type QuotaConfig, Quotas } from '@sluice/core';
import { RedisStore } from '@sluice/core/redis';
import { closedLoop, fmt } from '@sluice/test-support/load';
import { benchRedis } from '@sluice/test-support/redis';
import { Redis } from 'ioredis';

const { values: args } = parseArgs({
  options: {
    child: { type: 'string' },
    concurrency: { type: 'string' },
    'flood-seconds': { type: 'string' },
    limit: { type: 'string' },
    prefix: { type: 'string' },
    rate: { type: 'string' },
    scope: { type: 'string' },
    seconds: { type: 'string' },
    start: { type: 'string' },
    url: { type: 'string' },
    window: { type: 'string' },
  },
});

const PROCESSES = 3;
const rate = Number(args.rate) || 1000;
const seconds = Number(args.seconds) || 30;
const windowSeconds = Number(args.window) || 10;
const limit = Number(args.limit) || 15_000;
const concurrency = Number(args.concurrency) || 16;
const floodSeconds = Number(args['flood-seconds']) || 5;
const project = { id: 1, organizationId: 1 };

/** What a paced child saw: admitted units and refusals per window index (the engine's). */
interface PacedResult {
  readonly decisions: number;
  readonly admitted: Record<string, number>;
  readonly refused: Record<string, number>;
  readonly lateMs: number;
}

/** What a flooding child measured. */
interface FloodResult {
  readonly decisions: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

function quotaOf(scope: 'global' | 'organization', quotaLimit: number): QuotaConfig {
  return { id: 'fleet', scope, limit: quotaLimit, windowSeconds, reasonCode: 'fleet_quota' };
}

async function pacedChild(): Promise<PacedResult> {
  const client = new Redis(args.url!, { maxRetriesPerRequest: 1 });
  const store = new RedisStore(client, { prefix: args.prefix!, timeoutMs: 2000 });
  const quotas = new Quotas({ store, getQuotas: () => [quotaOf('global', limit)] });
  const admitted: Record<string, number> = {};
  const refused: Record<string, number> = {};
  const start = Number(args.start);
  await new Promise((r) => setTimeout(r, Math.max(0, start - Date.now())));
  const total = rate * seconds;
  let issued = 0;
  let lateMs = 0;
  const pending = new Set<Promise<void>>();
  const decide = () => {
    const done = quotas.isRateLimited(project).then((answer) => {
      // The window the engine decided in: its end is now + resetAfter, a multiple of the window.
      const end = Date.now() / 1000 + answer.quotas![0]!.resetAfter;
      const windowIndex = String(Math.round(end / windowSeconds) - 1);
      const into = answer.isLimited ? refused : admitted;
      into[windowIndex] = (into[windowIndex] ?? 0) + 1;
    });
    pending.add(done);
    void done.finally(() => pending.delete(done));
  };
  while (issued < total) {
    const due = Math.min(total, Math.floor(((Date.now() - start) / 1000) * rate));
    lateMs = Math.max(lateMs, (due - issued) / (rate / 1000));
    while (issued < due) {
      decide();
      issued++;
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(pending);
  client.disconnect();
  return { decisions: issued, admitted, refused, lateMs };
}

async function floodChild(): Promise<FloodResult> {
  const client = new Redis(args.url!, { maxRetriesPerRequest: 1 });
  const store = new RedisStore(client, { prefix: args.prefix!, timeoutMs: 2000 });
  const scope = args.scope === 'organization' ? 'organization' : 'global';
  const quotas = new Quotas({ store, getQuotas: () => [quotaOf(scope, 1e12)] });
  const start = Number(args.start);
  await new Promise((r) => setTimeout(r, Math.max(0, start - Date.now())));
  const result = await closedLoop(() => quotas.isRateLimited(project), {
    concurrency,
    durationMs: floodSeconds * 1000,
  });
  client.disconnect();
  return {
    decisions: result.ops,
    perSecond: result.perSecond,
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
  };
}

function runChild<T>(childArgs: string[]): Promise<T> {
  const script = fileURLToPath(import.meta.url);
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', script, ...childArgs], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    proc.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    proc.once('exit', (code) => {
      const line = out.trim().split('\n').at(-1) ?? '';
      if (code === 0 && line.startsWith('{')) resolve(JSON.parse(line) as T);
      else reject(new Error(`child ${childArgs.join(' ')} exited ${code}: ${out}`));
    });
  });
}

async function evalshaCalls(admin: Redis): Promise<number> {
  const stats = await admin.info('commandstats');
  return Number(/cmdstat_evalsha:calls=(\d+)/.exec(stats)?.[1] ?? 0);
}

/** Three children at once, started together 3 s from now (time to load tsx). */
function fleet<T>(url: string, mode: string, prefix: string, extra: string[] = []): Promise<T[]> {
  const start = String(Date.now() + 3000);
  const common = ['--url', url, '--prefix', prefix, '--start', start, '--window'];
  return Promise.all(
    Array.from({ length: PROCESSES }, () =>
      runChild<T>(['--child', mode, ...common, String(windowSeconds), ...extra]),
    ),
  );
}

async function parent(): Promise<void> {
  const redis = await benchRedis({ maxRetriesPerRequest: 1 });
  console.log(
    `node ${process.version}, redis ${redis.version}, ${cpus().length} cpus, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}; ${PROCESSES} processes; global quota of ${limit} per ${windowSeconds} s`,
  );
  let missed = 0;
  try {
    // Paced: calls per decision and admission per window.
    const before = await evalshaCalls(redis.admin);
    const paced = await fleet<PacedResult>(redis.url, 'paced', `paced${Date.now()}`, [
      '--rate',
      String(rate),
      '--seconds',
      String(seconds),
      '--limit',
      String(limit),
    ]);
    const calls = (await evalshaCalls(redis.admin)) - before;
    const decisions = paced.reduce((n, r) => n + r.decisions, 0);
    const windows = new Set(
      paced.flatMap((r) => [...Object.keys(r.admitted), ...Object.keys(r.refused)]),
    );
    let over = 0;
    let under = 0;
    let filled = 0;
    for (const w of windows) {
      const admitted = paced.reduce((n, r) => n + (r.admitted[w] ?? 0), 0);
      const refused = paced.reduce((n, r) => n + (r.refused[w] ?? 0), 0);
      over = Math.max(over, admitted - limit);
      if (refused > 0) {
        filled++;
        under = Math.max(under, limit - admitted);
      }
    }
    const perDecision = calls / decisions;
    const lateMs = Math.max(...paced.map((r) => r.lateMs));
    console.log(
      `paced, ${rate}/s per process for ${seconds} s: ${fmt(decisions)} decisions in ${windows.size} windows (${filled} filled), the slowest process at most ${fmt(lateMs, 1)} ms behind its pace`,
    );
    const hit = perDecision <= 0.05;
    if (!hit) missed++;
    console.log(
      `  Redis calls per decision     ${fmt(perDecision, 4)} (${fmt(calls)} EVALSHA)   target <= 0.05: ${hit ? 'met' : 'MISSED'}`,
    );
    if (over > 0) missed++;
    console.log(
      `  largest over-admission       ${fmt(Math.max(0, over))} units in a window          bound 0: ${over > 0 ? 'EXCEEDED' : 'held'}`,
    );
    console.log(
      `  largest under-admission      ${fmt(under)} units left in slices of a filled window (at most ${PROCESSES} x limit/100 = ${fmt((PROCESSES * limit) / 100)})`,
    );

    // Throughput: global slices against one EVALSHA per decision.
    const flood = async (scope: string) => {
      const results = await fleet<FloodResult>(redis.url, 'flood', `${scope}${Date.now()}`, [
        '--scope',
        scope,
        '--concurrency',
        String(concurrency),
      ]);
      return {
        perSecond: results.reduce((n, r) => n + r.perSecond, 0),
        p99Ms: Math.max(...results.map((r) => r.p99Ms)),
      };
    };
    const global = await flood('global');
    const organization = await flood('organization');
    console.log(
      `throughput, closed loop of ${concurrency} per process for ${floodSeconds} s, limit never reached:`,
    );
    console.log(
      `  global (slices)              ${fmt(global.perSecond)} decisions/s   p99 ${fmt(global.p99Ms, 2)} ms`,
    );
    console.log(
      `  organization (Redis each)    ${fmt(organization.perSecond)} decisions/s   p99 ${fmt(organization.p99Ms, 2)} ms`,
    );
    console.log(
      `  ratio                        ${fmt(global.perSecond / organization.perSecond, 2)}x`,
    );
  } finally {
    await redis.close();
  }
  console.log(missed === 0 ? 'every target met' : `${missed} target(s) missed`);
}

if (args.child === 'paced') console.log(JSON.stringify(await pacedChild()));
else if (args.child === 'flood') console.log(JSON.stringify(await floodChild()));
else await parent();
