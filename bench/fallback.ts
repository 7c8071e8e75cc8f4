// The local fallback against the two other policies: three app processes (the fault app:
// Fastify + @sluice/fastify on RedisStore, deadline 100 ms) share one private redis-server and a
// project quota; a steady load runs on each; Redis is killed (SIGKILL) for --down-ms and
// restarted on the same port. Prints, for `allow`, `deny` and `local` (localShare 1/3): what was
// admitted while Redis was down against the limit, the latency p99 then, and the errors.
// Usage: node --import tsx bench/fallback.ts [--down-ms 5000] [--rate 100] [--limit 1000]
// (pnpm run build first: the app processes run the built packages, as an app installs them).

import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { AppMetrics } from '@sluice/test-support/faults';
import { fmt, latencyQuantile, type Sample, steadyLoad } from '@sluice/test-support/load';
import { type AppProcess, startApp } from '@sluice/test-support/processes';
import { startRedisServer } from '@sluice/test-support/redis';

const { values: args } = parseArgs({
  options: {
    'down-ms': { type: 'string', default: '5000' },
    rate: { type: 'string', default: '100' },
    limit: { type: 'string', default: '1000' },
  },
});
const DOWN_MS = Number(args['down-ms']);
/** Requests per second sent to each app process. */
const RATE = Number(args.rate);
const LIMIT = Number(args.limit);
const PROCESSES = 3;
const LOCAL_SHARE = 1 / PROCESSES;
const TIMEOUT_MS = 100;
const WINDOW_SECONDS = 3600;
const WARM_MS = 1000;
const AFTER_MS = 1000;

interface Row {
  readonly policy: string;
  readonly beforeAdmitted: number;
  readonly duringSent: number;
  readonly duringAdmitted: number;
  readonly bound: string;
  readonly p99Ms: number;
  readonly status5xx: number;
  readonly failed: number;
  readonly localAdmitted: number;
  readonly fallbacks: string;
}

async function outage(policy: 'allow' | 'deny' | 'local'): Promise<Row> {
  const first = await startRedisServer();
  const env = {
    REDIS_URL: first.url,
    POLICY: policy,
    LIMIT: String(LIMIT),
    WINDOW_SECONDS: String(WINDOW_SECONDS),
    TIMEOUT_MS: String(TIMEOUT_MS),
    ...(policy === 'local' ? { LOCAL_SHARE: String(LOCAL_SHARE) } : {}),
  };
  const apps: AppProcess[] = [];
  let second: Awaited<ReturnType<typeof startRedisServer>> | undefined;
  try {
    for (let i = 0; i < PROCESSES; i++) apps.push(await startApp('fault-app.ts', env));
    // An organization whose hourly window is half over: no window rolls during the run.
    const org = Math.floor((Date.now() / 1000 - WINDOW_SECONDS / 2) % WINDOW_SECONDS);
    const loads = apps.map((app) =>
      steadyLoad({
        url: `${app.url}/work?p=1&o=${org}`,
        ratePerSecond: RATE,
        maxRequests: RATE * 120,
        maxSeconds: 120,
      }),
    );
    await sleep(WARM_MS);
    const downAt = performance.now();
    await first.stop();
    await sleep(DOWN_MS);
    const upAt = performance.now();
    second = await startRedisServer([], first.port);
    await sleep(AFTER_MS);
    const samples: Sample[] = (await Promise.all(loads.map((load) => load.stop()))).flat();
    const metrics = await Promise.all(apps.map((app) => app.json<AppMetrics>('/metrics')));
    const during = samples.filter((s) => s.sentAt >= downAt && s.sentAt < upAt);
    const admitted = (list: Sample[]) => list.filter((s) => s.status === 200).length;
    const sum = (pick: (m: AppMetrics) => number) => metrics.reduce((n, m) => n + pick(m), 0);
    return {
      policy,
      beforeAdmitted: admitted(samples.filter((s) => s.sentAt < downAt)),
      duringSent: during.length,
      duringAdmitted: admitted(during),
      bound:
        policy === 'local'
          ? `<= ${PROCESSES * Math.floor(LIMIT * LOCAL_SHARE)} (limit x ${PROCESSES} x ${fmt(LOCAL_SHARE, 3)})`
          : policy === 'deny'
            ? '0'
            : 'none',
      p99Ms: latencyQuantile(during, 0.99),
      status5xx: samples.filter((s) => s.status >= 500).length,
      failed: samples.filter((s) => s.status === 0).length,
      localAdmitted: sum((m) => m.localAccepted),
      fallbacks: `${sum((m) => m.fallbackStarts)}/${sum((m) => m.fallbackStops)}`,
    };
  } finally {
    await Promise.all(apps.map((app) => app.stop()));
    await second?.stop();
    await first.stop();
  }
}

console.log(
  `node ${process.version}; ${PROCESSES} app processes, ${RATE} req/s each; project quota ${LIMIT} ` +
    `per ${WINDOW_SECONDS} s; store deadline ${TIMEOUT_MS} ms; Redis killed for ${DOWN_MS} ms ` +
    `after ${WARM_MS} ms, restarted, then ${AFTER_MS} ms more\n`,
);
const rows: Row[] = [];
for (const policy of ['allow', 'deny', 'local'] as const) rows.push(await outage(policy));
const header = [
  'policy',
  'admitted before (Redis)',
  'sent while down',
  'admitted while down',
  'bound',
  'p99 while down (ms)',
  '5xx',
  'no answer',
  'admitted locally',
  'fallback start/stop',
];
console.log(`| ${header.join(' | ')} |`);
console.log(`|${header.map(() => ' --- ').join('|')}|`);
let missed = 0;
for (const row of rows) {
  if (row.policy === 'local') {
    if (row.localAdmitted > PROCESSES * Math.floor(LIMIT * LOCAL_SHARE)) missed++;
    if (row.status5xx + row.failed > 0) missed++;
  }
  console.log(
    `| ${[
      row.policy,
      row.beforeAdmitted,
      row.duringSent,
      row.duringAdmitted,
      row.bound,
      fmt(row.p99Ms, 1),
      row.status5xx,
      row.failed,
      row.localAdmitted,
      row.fallbacks,
    ].join(' | ')} |`,
  );
}
console.log(
  `\nlocal: admitted locally <= limit x processes x localShare, no 5xx, no failed request: ${missed === 0 ? 'held' : 'MISSED'}`,
);
