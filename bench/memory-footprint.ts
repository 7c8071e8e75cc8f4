// Heap held by the memory stores at 1,000,000 projects, and how soon it comes back: sluice's
// MemoryStore (a project and an organization quota per project, each project its own
// organization, so two counters a project) against express-rate-limit's MemoryStore and
// rate-limiter-flexible's RateLimiterMemory (one key a project), 5 s windows, each in a fresh
// process. Printed per adapter: insert time; heap held after GC, in bytes per project and per
// counter; heap after GC 1.5 s after the last window expired, and 12 s after the inserts; the
// event loop's longest delay (perf_hooks.monitorEventLoopDelay) while the store sits idle and
// expires everything, which is when sweeps run (forced GCs excluded). sluice's store clock
// stands still during the inserts, so its windows all end 5 s after the last one; the peers'
// windows run in real time during the inserts (express-rate-limit keeps two windows).
//
// Usage: node --expose-gc --import tsx bench/memory-footprint.ts [--projects 1000000]

import { execFileSync } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { MemoryStore, Quotas } from '@sluice/core';
import { fmt } from '@sluice/test-support/load';
import { MemoryStore as ErlMemoryStore } from 'express-rate-limit';
import { RateLimiterMemory } from 'rate-limiter-flexible';

const { values: args } = parseArgs({
  options: { child: { type: 'string' }, projects: { type: 'string' } },
});

const WINDOW_SECONDS = 5;
/** sluice's counters outlive their window by this grace (default 60 s; 1 s here, near the peers). */
const GRACE_SECONDS = 1;
const ADAPTERS = ['sluice', 'erl', 'rlm'] as const;
type Adapter = (typeof ADAPTERS)[number];

interface Footprint {
  adapter: Adapter;
  projects: number;
  counters: number;
  insertMs: number;
  heldBytes: number;
  /** Heap above the baseline, after GC, 1.5 s after the last window (plus grace) ended. */
  afterExpiryBytes: number;
  /** Heap above the baseline, after GC, 12 s after the inserts ended. */
  after12sBytes: number;
  idleLoopDelayMaxMs: number;
}

const gc = (globalThis as { gc?: () => void }).gc;

function heap(): number {
  gc!();
  gc!();
  return process.memoryUsage().heapUsed;
}

/** Inserts one state per project; resolves to the number of counters it made. */
async function insert(
  adapter: Adapter,
  projects: number,
): Promise<{ counters: number; keep: unknown }> {
  if (adapter === 'sluice') {
    // The store's clock stands still while the inserts run (they take longer than a window on
    // a loaded machine), then runs on from there: every counter is held when the heap is read,
    // and every window ends WINDOW_SECONDS (+ grace) after the last insert.
    let frozenAt: number | undefined = Date.now();
    let offset = 0;
    const store = new MemoryStore({
      maxKeys: 2 * projects + 1,
      clock: () => frozenAt ?? Date.now() - offset,
    });
    const quotas = new Quotas({
      store,
      graceSeconds: GRACE_SECONDS,
      getQuotas: () => [
        {
          id: 'p',
          scope: 'project',
          limit: 100,
          windowSeconds: WINDOW_SECONDS,
          reasonCode: 'project_quota',
        },
        {
          id: 'o',
          scope: 'organization',
          limit: 1000,
          windowSeconds: WINDOW_SECONDS,
          reasonCode: 'org_quota',
        },
      ],
    });
    for (let i = 0; i < projects; i++) await quotas.isRateLimited({ id: i, organizationId: i });
    offset = Date.now() - frozenAt!;
    frozenAt = undefined;
    return { counters: store.size, keep: store };
  }
  if (adapter === 'erl') {
    const store = new ErlMemoryStore();
    store.init({ windowMs: WINDOW_SECONDS * 1000 } as never);
    for (let i = 0; i < projects; i++) await store.increment(String(i));
    return { counters: projects, keep: store };
  }
  const limiter = new RateLimiterMemory({ keyPrefix: 'p', points: 100, duration: WINDOW_SECONDS });
  for (let i = 0; i < projects; i++) await limiter.consume(String(i), 1);
  return { counters: projects, keep: limiter };
}

async function child(adapter: Adapter, projects: number): Promise<void> {
  const baseline = heap();
  const started = performance.now();
  const { counters, keep } = await insert(adapter, projects);
  const insertMs = performance.now() - started;
  const heldBytes = heap() - baseline;
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  // Every window ends within WINDOW_SECONDS of the last insert; sluice's counters then live
  // GRACE_SECONDS longer (and up to 1 s more, to the store's next expiry pass).
  const expiredAt = started + insertMs + (WINDOW_SECONDS + GRACE_SECONDS) * 1000;
  await sleep(expiredAt + 1500 - performance.now());
  // Only the idle time counts: the forced GCs around it block the loop themselves.
  delay.disable();
  const afterExpiryBytes = heap() - baseline;
  await sleep(started + insertMs + 12_000 - performance.now());
  const after12sBytes = heap() - baseline;
  const footprint: Footprint = {
    adapter,
    projects,
    counters,
    insertMs,
    heldBytes,
    afterExpiryBytes,
    after12sBytes,
    idleLoopDelayMaxMs: delay.max / 1e6,
  };
  process.stdout.write(JSON.stringify(footprint));
  void keep;
  process.exit(0);
}

async function parent(projects: number): Promise<void> {
  const self = fileURLToPath(import.meta.url);
  console.log(
    `node ${process.version}; ${fmt(projects)} projects, ${WINDOW_SECONDS} s windows, each adapter in a fresh process`,
  );
  console.log(
    `sluice: MemoryStore + Quotas, project and organization quota, each project its own organization (two counters a project), graceSeconds ${GRACE_SECONDS}`,
  );
  console.log(
    'express-rate-limit: MemoryStore.increment(key); rate-limiter-flexible: RateLimiterMemory.consume(key)\n',
  );
  const rows: Footprint[] = [];
  for (const adapter of ADAPTERS) {
    const out = execFileSync(
      process.execPath,
      [...process.execArgv, self, '--child', adapter, '--projects', String(projects)],
      { encoding: 'utf8', maxBuffer: 1 << 20 },
    );
    rows.push(JSON.parse(out) as Footprint);
  }
  const mb = (bytes: number) => fmt(bytes / 1e6, 1);
  console.log(
    '| store | insert s | heap held MB | B/project | B/counter | MB 1.5 s after expiry | MB 12 s after inserts | idle loop delay max ms |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) {
    console.log(
      `| ${r.adapter} | ${fmt(r.insertMs / 1000, 2)} | ${mb(r.heldBytes)} | ${fmt(r.heldBytes / r.projects)} | ${fmt(r.heldBytes / r.counters)} | ${mb(r.afterExpiryBytes)} | ${mb(r.after12sBytes)} | ${fmt(r.idleLoopDelayMaxMs, 1)} |`,
    );
  }
  const sluice = rows.find((r) => r.adapter === 'sluice')!;
  const target = (label: string, held: boolean) =>
    console.log(`${label.padEnd(72)} ${held ? 'held' : 'MISSED'}`);
  console.log('');
  target(
    `sluice <= 150 B per counter (${fmt(sluice.heldBytes / sluice.counters)} B)`,
    sluice.heldBytes / sluice.counters <= 150,
  );
  target(
    `sluice back to baseline (< 1% of held) 1.5 s after expiry (${mb(sluice.afterExpiryBytes)} MB)`,
    sluice.afterExpiryBytes < sluice.heldBytes / 100,
  );
  target(
    `no sweep blocks the loop > 5 ms (max ${fmt(sluice.idleLoopDelayMaxMs, 1)} ms idle)`,
    sluice.idleLoopDelayMaxMs <= 5,
  );
  const erl = rows.find((r) => r.adapter === 'erl')!;
  console.log(
    `insert time sluice / express-rate-limit: ${fmt(sluice.insertMs / erl.insertMs, 2)}x (sluice makes two counters a project)`,
  );
}

const projects = Number(args.projects) || 1_000_000;
const childAdapter = args.child as Adapter | undefined;
if (gc === undefined) {
  console.error('run with node --expose-gc');
  process.exit(1);
}
if (childAdapter !== undefined) await child(childAdapter, projects);
else await parent(projects);
