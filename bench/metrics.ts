// What the diagnostics channels cost (issue 14 §2): sluice's two-quota decision on a
// MemoryStore, one caller awaiting one decision after another over 1,000 projects, in three
// configurations, each in a fresh process per repetition, repetitions interleaved:
//   none  no subscriber: the engines and the store read `hasSubscribers` and build nothing;
//   noop  a subscriber that does nothing on sluice:decision and sluice:store (messages built,
//         store calls timed);
//   otel  the OpenTelemetry bridge on a real SDK MeterProvider (no exporter: the counting only).
// Printed: decisions per second, Node CPU per decision, and garbage collections per 100,000
// decisions (what the messages allocate), medians over the repetitions, and the ratio to none.
//
// Usage: node --import tsx bench/metrics.ts [--reps 3] [--checks 300000]
//   (one child: --child none|noop|otel)

import { execFileSync } from 'node:child_process';
import { subscribe } from 'node:diagnostics_channel';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { DECISION_CHANNEL, MemoryStore, type Project, Quotas, STORE_CHANNEL } from '@sluice/core';
import { sluiceMetrics } from '@sluice/core/opentelemetry';
import { fmt } from '@sluice/test-support/load';

const { values: args } = parseArgs({
  options: {
    checks: { type: 'string' },
    child: { type: 'string' },
    reps: { type: 'string' },
  },
});

const CONFIGS = ['none', 'noop', 'otel'] as const;
type Config = (typeof CONFIGS)[number];
const KEYS = 1000;

interface Run {
  perSecond: number;
  /** Node CPU (user + system) per decision, microseconds. */
  cpuUs: number;
  /** Garbage collections (any kind) per 100,000 decisions. */
  gcs: number;
}

/** A reader that never exports: the bridge's counting without a backend. */
class IdleReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

function listen(config: Config): void {
  if (config === 'noop') {
    subscribe(DECISION_CHANNEL, () => {});
    subscribe(STORE_CHANNEL, () => {});
  }
  if (config === 'otel') {
    sluiceMetrics({ meterProvider: new MeterProvider({ readers: [new IdleReader()] }) });
  }
}

async function measure(quotas: Quotas, projects: Project[], total: number): Promise<Run> {
  let gcs = 0;
  const observer = new PerformanceObserver((list) => {
    gcs += list.getEntries().length;
  });
  observer.observe({ entryTypes: ['gc'] });
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < total; i++) await quotas.isRateLimited(projects[i % KEYS]!);
  const elapsedMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  // GC entries are delivered asynchronously: let them arrive before counting.
  await new Promise((resolve) => setTimeout(resolve, 50));
  observer.disconnect();
  return {
    perSecond: (total / elapsedMs) * 1000,
    cpuUs: (used.user + used.system) / total,
    gcs: (gcs / total) * 100_000,
  };
}

async function child(config: Config, checks: number): Promise<void> {
  listen(config);
  const projects: Project[] = Array.from({ length: KEYS }, (_, i) => ({
    id: i,
    organizationId: 1,
  }));
  const quotas = new Quotas({
    store: new MemoryStore(),
    getQuotas: () => [
      { id: 'p', scope: 'project', limit: 1e9, windowSeconds: 60, reasonCode: 'project_quota' },
      { id: 'o', scope: 'organization', limit: 1e12, windowSeconds: 60, reasonCode: 'org_quota' },
    ],
  });
  await measure(quotas, projects, Math.min(checks, 50_000)); // warm-up
  process.stdout.write(JSON.stringify(await measure(quotas, projects, checks)));
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

async function parent(reps: number, checks: number): Promise<void> {
  const self = fileURLToPath(import.meta.url);
  console.log(
    `node ${process.version}; ${reps} repetitions, each configuration in a fresh process`,
  );
  console.log(
    `Quotas.isRateLimited on a MemoryStore, project + organization quota, ${fmt(checks)} decisions one after another over ${KEYS} projects`,
  );
  const runs: Record<Config, Run[]> = { none: [], noop: [], otel: [] };
  for (let rep = 0; rep < reps; rep++) {
    for (const config of CONFIGS) {
      const out = execFileSync(
        process.execPath,
        [...process.execArgv, self, '--child', config, '--checks', String(checks)],
        { encoding: 'utf8', maxBuffer: 1 << 20 },
      );
      runs[config].push(JSON.parse(out) as Run);
    }
  }
  const base = median(runs.none.map((r) => r.perSecond));
  console.log(
    `${'subscribers'.padEnd(12)}${'decisions/s'.padStart(14)}${'cpu us'.padStart(9)}${'GCs/100k'.padStart(10)}${'vs none'.padStart(10)}`,
  );
  for (const config of CONFIGS) {
    const perSecond = median(runs[config].map((r) => r.perSecond));
    console.log(
      `${config.padEnd(12)}${fmt(perSecond).padStart(14)}${fmt(median(runs[config].map((r) => r.cpuUs)), 2).padStart(9)}${fmt(median(runs[config].map((r) => r.gcs)), 1).padStart(10)}${`${fmt(perSecond / base, 2)}x`.padStart(10)}`,
    );
  }
}

const checks = Number(args.checks ?? 300_000);
if (args.child !== undefined) await child(args.child as Config, checks);
else await parent(Number(args.reps ?? 3), checks);
