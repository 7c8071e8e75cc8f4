// sluice's two-quota decision on memory against express-rate-limit's MemoryStore and
// rate-limiter-flexible's RateLimiterMemory, the way issue 10 measures it: a closed loop keeps
// c checks in flight (c = 1, 16, 64, 256); 1,000 keys round-robin, every project in
// organization 1 (a project quota and an organization quota 1,000 times larger, so it never
// binds); "pass" mode (limit 1e9, every check passes) and "half" mode (every other check hits one
// of 100 keys exhausted beforehand); 60 s windows; each adapter in a fresh process per
// repetition, repetitions interleaved; ratios paired per repetition, medians printed.
//
// Usage: node --import tsx bench/quotas-memory.ts [--reps 3] [--checks 200000]
//   (one child: --child sluice|erl|rlm --mode pass|half)

import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { MemoryStore, type Project, Quotas } from '@sluice/core';
import { fmt } from '@sluice/test-support/load';
import { MemoryStore as ErlMemoryStore } from 'express-rate-limit';
import { RateLimiterMemory } from 'rate-limiter-flexible';

const { values: args } = parseArgs({
  options: {
    checks: { type: 'string' },
    child: { type: 'string' },
    mode: { type: 'string' },
    reps: { type: 'string' },
  },
});

const CONCURRENCY = [1, 16, 64, 256] as const;
const KEYS = 1000;
const EXHAUSTED = 100;
const LIMIT = 1e9;
const WINDOW_SECONDS = 60;
const ADAPTERS = ['erl', 'rlm', 'sluice'] as const;
const MODES = ['pass', 'half'] as const;
type Adapter = (typeof ADAPTERS)[number];
type Mode = (typeof MODES)[number];

/** One check: resolves to true when limited. */
type Check = (i: number) => Promise<boolean>;

interface Run {
  concurrency: number;
  checks: number;
  perSecond: number;
  /** Node CPU (user + system) per check, microseconds. */
  cpuUs: number;
  limited: number;
}

/** Builds an adapter's check; exhausted keys are used up before it is returned. */
async function makeCheck(adapter: Adapter, mode: Mode): Promise<Check> {
  const half = mode === 'half';
  if (adapter === 'sluice') {
    const store = new MemoryStore();
    const projects: Project[] = Array.from({ length: KEYS }, (_, i) => ({
      id: i,
      organizationId: 1,
    }));
    const spent: Project[] = Array.from({ length: EXHAUSTED }, (_, i) => ({
      id: `x${i}`,
      organizationId: 1,
    }));
    const quotas = new Quotas({
      store,
      getQuotas: (project) => [
        {
          id: 'p',
          scope: 'project',
          limit: typeof project.id === 'string' ? 1 : LIMIT,
          windowSeconds: WINDOW_SECONDS,
          reasonCode: 'project_quota',
        },
        {
          id: 'o',
          scope: 'organization',
          limit: LIMIT * 1000,
          windowSeconds: WINDOW_SECONDS,
          reasonCode: 'org_quota',
        },
      ],
    });
    if (half) for (const project of spent) await quotas.isRateLimited(project);
    return half
      ? (i) =>
          quotas
            .isRateLimited(i % 2 === 0 ? spent[(i >> 1) % EXHAUSTED]! : projects[(i >> 1) % KEYS]!)
            .then((r) => r.isLimited)
      : (i) => quotas.isRateLimited(projects[i % KEYS]!).then((r) => r.isLimited);
  }
  const keys = Array.from({ length: KEYS }, (_, i) => String(i));
  const spentKeys = Array.from({ length: EXHAUSTED }, (_, i) => `x${i}`);
  if (adapter === 'erl') {
    const store = new ErlMemoryStore();
    store.init({ windowMs: WINDOW_SECONDS * 1000 } as never);
    const limited = async (key: string, limit: number) =>
      (await store.increment(key)).totalHits > limit;
    if (half) for (const key of spentKeys) await store.increment(key);
    return half
      ? (i) =>
          i % 2 === 0
            ? limited(spentKeys[(i >> 1) % EXHAUSTED]!, 1)
            : limited(keys[(i >> 1) % KEYS]!, LIMIT)
      : (i) => limited(keys[i % KEYS]!, LIMIT);
  }
  const open = new RateLimiterMemory({ keyPrefix: 'o', points: LIMIT, duration: WINDOW_SECONDS });
  const tight = new RateLimiterMemory({ keyPrefix: 't', points: 1, duration: WINDOW_SECONDS });
  const consume = (limiter: RateLimiterMemory, key: string) =>
    limiter.consume(key, 1).then(
      () => false,
      () => true,
    );
  if (half) for (const key of spentKeys) await consume(tight, key);
  return half
    ? (i) =>
        i % 2 === 0
          ? consume(tight, spentKeys[(i >> 1) % EXHAUSTED]!)
          : consume(open, keys[(i >> 1) % KEYS]!)
    : (i) => consume(open, keys[i % KEYS]!);
}

/** Runs `total` checks with `concurrency` in flight, each caller awaiting one after another. */
async function closedLoop(check: Check, concurrency: number, total: number): Promise<Run> {
  let issued = 0;
  let limited = 0;
  const worker = async () => {
    while (issued < total) {
      if (await check(issued++)) limited++;
    }
  };
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsedMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return {
    concurrency,
    checks: total,
    perSecond: (total / elapsedMs) * 1000,
    cpuUs: (used.user + used.system) / total,
    limited,
  };
}

async function child(adapter: Adapter, mode: Mode, checks: number): Promise<void> {
  const runs: Run[] = [];
  for (const concurrency of CONCURRENCY) {
    const check = await makeCheck(adapter, mode);
    const total = concurrency === 1 ? checks / 2 : checks;
    await closedLoop(check, concurrency, Math.min(total, 50_000)); // warm-up
    runs.push(await closedLoop(check, concurrency, total));
  }
  process.stdout.write(JSON.stringify(runs));
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};
const range = (values: number[]) =>
  values.length > 1
    ? `${fmt(Math.min(...values), 2)}-${fmt(Math.max(...values), 2)}x`
    : `${fmt(values[0]!, 2)}x`;

async function parent(reps: number, checks: number): Promise<void> {
  const self = fileURLToPath(import.meta.url);
  console.log(`node ${process.version}; ${reps} repetitions, each adapter in a fresh process`);
  console.log(
    `closed loop, ${fmt(checks)} checks per run (${fmt(checks / 2)} at c=1), ${KEYS} keys round-robin in organization 1, ${WINDOW_SECONDS} s windows`,
  );
  console.log(
    'sluice: Quotas, project quota + organization quota (x1000), two counters per check; express-rate-limit: MemoryStore.increment(key) vs the limit; rate-limiter-flexible: RateLimiterMemory({ keyPrefix, points, duration }).consume(key)',
  );
  console.log('half mode: every other check hits one of 100 keys exhausted beforehand\n');
  let missed = 0;
  for (const mode of MODES) {
    const results: Record<Adapter, Run[][]> = { erl: [], rlm: [], sluice: [] };
    for (let rep = 0; rep < reps; rep++) {
      for (const adapter of ADAPTERS) {
        const out = execFileSync(
          process.execPath,
          [
            ...process.execArgv,
            self,
            '--child',
            adapter,
            '--mode',
            mode,
            '--checks',
            String(checks),
          ],
          { encoding: 'utf8', maxBuffer: 1 << 20 },
        );
        results[adapter].push(JSON.parse(out) as Run[]);
      }
    }
    console.log(`mode ${mode}: median of ${reps} (checks/s, Node CPU us per check)`);
    console.log(
      `${'c'.padEnd(5)}${ADAPTERS.map((a) => `${a.padStart(12)}/s ${'cpu'.padStart(6)}`).join('')}   sluice/rlm thr   sluice cpu / erl cpu`,
    );
    CONCURRENCY.forEach((c, at) => {
      const cells = ADAPTERS.map((a) => {
        const runs = results[a].map((r) => r[at]!);
        return `${fmt(median(runs.map((r) => r.perSecond))).padStart(14)} ${fmt(median(runs.map((r) => r.cpuUs)), 2).padStart(6)}`;
      }).join('');
      const thr = results.sluice.map(
        (r, rep) => r[at]!.perSecond / results.rlm[rep]![at]!.perSecond,
      );
      const cpu = results.sluice.map((r, rep) => r[at]!.cpuUs / results.erl[rep]![at]!.cpuUs);
      console.log(
        `${String(c).padEnd(5)}${cells}   ${fmt(median(thr), 2).padStart(5)}x (${range(thr)})   ${fmt(median(cpu), 2).padStart(5)}x (${range(cpu)})`,
      );
      if (c === 1) {
        const held = median(thr) >= 1;
        if (!held) missed++;
        console.log(
          `     target: sluice >= 1.0x RateLimiterMemory's throughput at c=1: ${held ? 'held' : 'MISSED'}`,
        );
      }
      if (c === 64) {
        const held = median(cpu) <= 2;
        if (!held) missed++;
        console.log(
          `     target: sluice's CPU per decision <= 2x express-rate-limit's per check at c=64: ${held ? 'held' : 'MISSED'}`,
        );
      }
    });
    const limited = results.sluice[0]!.map((r) => r.limited / r.checks);
    console.log(
      `     sluice refused ${limited.map((f) => fmt(f * 100, 1)).join('/')} % of checks\n`,
    );
  }
  console.log(missed === 0 ? 'all targets held' : `${missed} target(s) missed`);
}

const childAdapter = args.child as Adapter | undefined;
const checks = Number(args.checks) || 200_000;
if (childAdapter !== undefined) {
  await child(childAdapter, (args.mode as Mode | undefined) ?? 'pass', checks);
} else {
  await parent(Number(args.reps) || 3, checks);
}
