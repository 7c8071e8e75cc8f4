// Lockout over HTTP on Redis (issue 16 §3): what a lockout costs a client that is not locked
// out, and what a locked-out client costs. HttpLimiter.decide on a private redis-server, 1,000
// projects in turn (identify, no framework), c decisions in flight for a fixed time each:
//
// - "quota only": one project quota of 1e9 per hour (the baseline);
// - "+ lockout, admitted": the same with `lockout` (after 5 within 60 s, block 600 s); no
//   project is refused, so every request adds the lockout check (one EVALSHA);
// - "+ lockout, locked out": every project locked out beforehand, from this process: refused
//   from memory;
// - "locked out, seen elsewhere": locked out by another process: each project's first request
//   here asks Redis once, then memory.
// Beside it, rate-limiter-flexible's RateLimiterRedis with inMemoryBlockOnConsumed (its
// documented way to spare Redis for blocked keys), consume() on keys over their points,
// measured the same way. Redis commands per decision are INFO commandstats calls (every
// command, those inside scripts included) over the decisions made.
//
// Usage: node --import tsx bench/lockout.ts [--seconds 3] [--concurrency 16]

import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { Lockout } from '@sluice/core';
import { HttpLimiter } from '@sluice/core/adapter';
import { RedisStore } from '@sluice/core/redis';
import { closedLoop, fmt } from '@sluice/test-support/load';
import { benchRedis } from '@sluice/test-support/redis';
import { RateLimiterRedis } from 'rate-limiter-flexible';

const { values: args } = parseArgs({
  options: { seconds: { type: 'string' }, concurrency: { type: 'string' } },
});
const durationMs = Number(args.seconds ?? 3) * 1000;
const concurrency = Number(args.concurrency ?? 16);
const PROJECTS = 1000;
const lockoutOptions = { after: 5, withinSeconds: 60, blockSeconds: 600 };

const redis = await benchRedis({ maxRetriesPerRequest: 1 });
const admin = redis.admin;

/** Commands Redis ran (those inside scripts included), and script calls (EVALSHA, EVAL). */
async function commandCalls(): Promise<{ commands: number; scripts: number }> {
  const info = await admin.info('commandstats');
  let commands = 0;
  let scripts = 0;
  for (const m of info.matchAll(/cmdstat_(\w+):calls=(\d+)/g)) {
    commands += Number(m[2]);
    if (m[1] === 'evalsha' || m[1] === 'eval') scripts += Number(m[2]);
  }
  return { commands, scripts };
}

const projects = Array.from({ length: PROJECTS }, (_, i) => ({ id: i + 1, organizationId: i + 1 }));
const request = (i: number) => ({
  method: 'POST',
  url: `/api/${(i % PROJECTS) + 1}/store/`,
  headers: {},
  ip: '127.0.0.1',
});
const identify = (req: { path: string }) => {
  const id = Number(req.path.split('/')[2]);
  return { project: projects[id - 1]! };
};
const quotas = [
  {
    id: 'p',
    scope: 'project' as const,
    limit: 1e9,
    windowSeconds: 3600,
    reasonCode: 'project_quota',
  },
];

interface Row {
  name: string;
  perSecond: number;
  p99Ms: number;
  commandsPerDecision: number;
  scriptsPerDecision: number;
  status: string;
}
const rows: Row[] = [];

async function measure(name: string, decide: (i: number) => Promise<string>): Promise<void> {
  await admin.config('SET', 'save', '');
  const statuses = new Map<string, number>();
  const before = await commandCalls();
  const result = await closedLoop(
    async (i) => {
      const status = await decide(i);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    },
    { concurrency, durationMs },
  );
  const after = await commandCalls();
  const commands = after.commands - before.commands - 1; // less the INFO itself
  const decisions = result.ops + result.warmupOps;
  rows.push({
    name,
    perSecond: result.perSecond,
    p99Ms: result.p99Ms,
    commandsPerDecision: commands / decisions,
    scriptsPerDecision: (after.scripts - before.scripts) / decisions,
    status: [...statuses].map(([s, n]) => `${s} ${fmt((100 * n) / decisions, 0)}%`).join(', '),
  });
}

let run = 0;
function limiter(withLockout: boolean): { limiter: HttpLimiter; store: RedisStore } {
  const store = new RedisStore(redis.client(), { prefix: `b${++run}`, timeoutMs: 5000 });
  return {
    store,
    limiter: new HttpLimiter({
      store,
      identify,
      quotas,
      ...(withLockout ? { lockout: lockoutOptions } : {}),
    }),
  };
}
const statusOf = async (l: HttpLimiter, i: number) => {
  const d = await l.decide(request(i), {});
  return d.action === 'continue' ? '200' : String(d.answer.status);
};

const base = limiter(false);
await measure('quota only', (i) => statusOf(base.limiter, i));
const admitted = limiter(true);
await measure('+ lockout, admitted', (i) => statusOf(admitted.limiter, i));
const locked = limiter(true);
{
  // Locked out through the limiter's own lockout: its memory knows every block.
  const l = new HttpLimiter({
    store: locked.store,
    identify,
    quotas: [{ ...quotas[0]!, limit: 0 }],
    lockout: lockoutOptions,
  });
  for (let i = 0; i < PROJECTS * lockoutOptions.after; i++) await l.decide(request(i), {});
  await measure('+ lockout, locked out', (i) => statusOf(l, i));
}
const elsewhere = limiter(true);
{
  const other = new Lockout(elsewhere.store, lockoutOptions);
  for (let p = 1; p <= PROJECTS; p++) {
    for (let k = 0; k < lockoutOptions.after; k++) await other.recordRefusal(String(p));
  }
  await measure('locked out, seen elsewhere', (i) => statusOf(elsewhere.limiter, i));
}
{
  // The engine alone, as rate-limiter-flexible is measured: Lockout.blocked() on a blocked key.
  const engine = new Lockout(elsewhere.store, lockoutOptions);
  for (let p = 1; p <= PROJECTS; p++) await engine.blocked(String(p));
  await measure('Lockout.blocked(), engine alone, locked out', async (i) =>
    (await engine.blocked(String((i % PROJECTS) + 1))) > 0 ? '429' : '200',
  );
}
{
  const rlf = new RateLimiterRedis({
    storeClient: redis.client(),
    keyPrefix: 'rlf',
    points: 5,
    duration: 60,
    inMemoryBlockOnConsumed: 6,
    inMemoryBlockDuration: 600,
  });
  for (let p = 1; p <= PROJECTS; p++) {
    for (let k = 0; k < 6; k++) await rlf.consume(String(p)).catch(() => {});
  }
  await measure('rate-limiter-flexible, blocked in memory', async (i) => {
    try {
      await rlf.consume(String((i % PROJECTS) + 1));
      return '200';
    } catch (error) {
      if (error instanceof Error) throw error;
      return '429';
    }
  });
}

console.log(
  `# lockout bench: ${PROJECTS} projects, concurrency ${concurrency}, ${durationMs / 1000} s each; ` +
    `redis ${redis.version}; node ${process.version}; ${cpus().length} cpus, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
);
console.log(`# lockout options ${JSON.stringify(lockoutOptions)}; ioredis maxRetriesPerRequest 1`);
console.log(
  '| case | decisions/s | p99 ms | script calls/decision | Redis commands/decision | answers |',
);
console.log('| --- | ---: | ---: | ---: | ---: | --- |');
for (const r of rows) {
  console.log(
    `| ${r.name} | ${fmt(r.perSecond)} | ${fmt(r.p99Ms, 2)} | ${fmt(r.scriptsPerDecision, 2)} | ${fmt(r.commandsPerDecision, 2)} | ${r.status} |`,
  );
}
const engine = rows.find((r) => r.name.startsWith('Lockout.blocked()'))!;
const peer = rows.find((r) => r.name.startsWith('rate-limiter-flexible'))!;
console.log(
  `\nLockout.blocked() vs rate-limiter-flexible blocked in memory (both engines alone): ${fmt(engine.perSecond / peer.perSecond, 2)}x`,
);
await redis.close();
