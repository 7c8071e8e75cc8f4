// Reliability under faults and load at full size, with tight figures: each scenario runs a
// private redis-server (or Cluster), the fault app (Fastify + sluice) in its own process, and a
// steady load from this process on loopback. Prints one `name=value` line per figure and
// whether its bound held. Usage: node --import tsx bench/faults.ts [--only hang,restart,...]
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import calculateSlot from 'cluster-key-slot';
import { Redis } from 'ioredis';
import { MemoryStore, type Project, Quotas } from '../packages/core/src/index.ts';
import { RedisStore } from '../packages/core/src/redis.ts';
import { type AppProcess, startApp } from '../test/support/app-process.ts';
import { startRedisCluster } from '../test/support/redis-cluster.ts';
import { startRedisServer } from '../test/support/redis-server.ts';
import { latencyQuantile, type Sample, steadyLoad } from '../test/support/steady-load.ts';

const run = promisify(execFile);
const TIMEOUT_MS = 100;
const only = process.argv.includes('--only')
  ? process.argv[process.argv.indexOf('--only') + 1]!.split(',')
  : undefined;
let missed = 0;

function figure(
  name: string,
  value: number | string,
  bound?: { max?: number; min?: number; equals?: number | string },
) {
  let verdict = '';
  if (bound !== undefined) {
    const held =
      (bound.max === undefined || Number(value) <= bound.max) &&
      (bound.min === undefined || Number(value) >= bound.min) &&
      (bound.equals === undefined || value === bound.equals);
    if (!held) missed++;
    const text =
      bound.equals !== undefined
        ? `== ${bound.equals}`
        : bound.max !== undefined
          ? `<= ${bound.max}`
          : `>= ${bound.min}`;
    verdict = `  (bound ${text}: ${held ? 'held' : 'MISSED'})`;
  }
  console.log(
    `${name}=${typeof value === 'number' ? Math.round(value * 100) / 100 : value}${verdict}`,
  );
}

interface Metrics {
  accepted: number;
  dropped: number;
  storeErrors: number;
  maxEventLoopDelayMs: number;
}
const status5xx = (samples: Sample[]) =>
  samples.filter((s) => s.status >= 500 || s.status === 0).length;
const scenario = (name: string) => only === undefined || only.includes(name);

async function withApp<T>(
  env: Record<string, string>,
  body: (app: AppProcess) => Promise<T>,
): Promise<T> {
  const app = await startApp('fault-app.ts', env);
  try {
    return await body(app);
  } finally {
    await app.stop();
  }
}

console.log(
  `node ${process.version}; store deadline ${TIMEOUT_MS} ms; load from this process, app in its own\n`,
);

if (scenario('hang')) {
  console.log('# 1. Redis hung: SIGSTOP for 4 s under 500 req/s');
  for (const policy of ['allow', 'deny'] as const) {
    const redis = await startRedisServer();
    await withApp(
      { REDIS_URL: redis.url, POLICY: policy, TIMEOUT_MS: String(TIMEOUT_MS) },
      async (app) => {
        const load = steadyLoad({
          url: `${app.url}/work?p=1`,
          ratePerSecond: 500,
          maxRequests: 10_000,
          maxSeconds: 8,
        });
        await sleep(1000);
        const before = await app.json<Metrics>('/metrics');
        const start = performance.now();
        redis.process.kill('SIGSTOP');
        await sleep(4000);
        const end = performance.now();
        redis.process.kill('SIGCONT');
        const resumed = performance.now();
        await sleep(1000);
        const pending = load.pending(resumed);
        const samples = await load.stop();
        const after = await app.json<Metrics>('/metrics');
        const during = samples.filter((s) => s.sentAt > start && s.sentAt < end - TIMEOUT_MS);
        figure(`hang_${policy}_p99_ms`, latencyQuantile(during, 0.99), { max: TIMEOUT_MS + 5 });
        figure(`hang_${policy}_requests_during`, during.length);
        figure(`hang_${policy}_policy_decisions_counted`, after.storeErrors - before.storeErrors, {
          min: during.length,
        });
        figure(`hang_${policy}_sent_before_cont_pending_1s_after`, pending, { max: 0 });
        if (policy === 'allow') figure('hang_allow_5xx', status5xx(samples), { equals: 0 });
      },
    );
    redis.process.kill('SIGCONT');
    await redis.stop();
  }
}

if (scenario('restart')) {
  console.log('\n# 2. Redis killed (SIGKILL) for 3 s and restarted on the same port, 500 req/s');
  let redis = await startRedisServer();
  const { port } = redis;
  await withApp(
    { REDIS_URL: redis.url, POLICY: 'allow', TIMEOUT_MS: String(TIMEOUT_MS) },
    async (app) => {
      const load = steadyLoad({
        url: `${app.url}/work?p=1`,
        ratePerSecond: 500,
        maxRequests: 10_000,
        maxSeconds: 8,
      });
      await sleep(1000);
      const down = performance.now();
      await redis.stop();
      await sleep(3000);
      const up = performance.now();
      redis = await startRedisServer([], port);
      const returned = performance.now();
      let last = (await app.json<Metrics>('/metrics')).storeErrors;
      let lastChange = returned;
      while (performance.now() - returned < 2500) {
        await sleep(10);
        const now = (await app.json<Metrics>('/metrics')).storeErrors;
        if (now !== last) {
          last = now;
          lastChange = performance.now();
        }
      }
      const samples = await load.stop();
      const during = samples.filter((s) => s.sentAt > down && s.sentAt < up - TIMEOUT_MS);
      figure('restart_down_p99_ms', latencyQuantile(during, 0.99), { max: TIMEOUT_MS + 5 });
      figure('restart_back_on_redis_ms', lastChange - returned, { max: 1000 });
      figure('restart_5xx', status5xx(samples), { equals: 0 });
      figure('restart_app_alive', app.child.exitCode === null ? 'yes' : 'no', { equals: 'yes' });
      figure('restart_unhandled_rejections', /Unhandled/i.test(app.stderr()) ? 1 : 0, {
        equals: 0,
      });
    },
  );
  await redis.stop();
}

if (scenario('flush')) {
  console.log('\n# 3. SCRIPT FLUSH every 500 ms for 10 s under 500 req/s');
  const redis = await startRedisServer();
  await withApp(
    { REDIS_URL: redis.url, POLICY: 'deny', TIMEOUT_MS: String(TIMEOUT_MS) },
    async (app) => {
      const admin = new Redis(redis.url);
      const load = steadyLoad({
        url: `${app.url}/work?p=1`,
        ratePerSecond: 500,
        maxRequests: 5000,
        maxSeconds: 10,
      });
      for (let i = 0; i < 20; i++) {
        await sleep(500);
        await admin.script('FLUSH');
      }
      const samples = await load.finished();
      const metrics = await app.json<Metrics>('/metrics');
      admin.disconnect();
      figure('flush_decisions', samples.length);
      figure(
        'flush_failed_decisions',
        samples.filter((s) => s.status !== 200).length + metrics.storeErrors,
        { equals: 0 },
      );
    },
  );
  await redis.stop();
}

if (scenario('reshard')) {
  console.log('\n# 4. Redis Cluster: 1,000 slots resharded under 500 req/s (deny policy)');
  const cluster = await startRedisCluster(3);
  const LIMIT = 100;
  await withApp(
    {
      CLUSTER_NODES: JSON.stringify(cluster.startupNodes),
      POLICY: 'deny',
      TIMEOUT_MS: '500',
      LIMIT: String(LIMIT),
      WINDOW_SECONDS: '86400',
    },
    async (app) => {
      const orgs: number[] = [];
      for (let id = 0; orgs.length < 50; id++) if (calculateSlot(`{${id}}`) < 1000) orgs.push(id);
      let i = 0;
      const load = steadyLoad({
        url: () => {
          const p = i++ % orgs.length;
          return `${app.url}/work?o=${orgs[p]}&p=${p}`;
        },
        ratePerSecond: 500,
        maxRequests: 20_000,
        maxSeconds: 30,
      });
      await sleep(1000);
      const ids = await Promise.all(
        cluster.nodes
          .slice(0, 2)
          .map(async (n) =>
            (await run('redis-cli', ['-p', String(n.port), 'cluster', 'myid'])).stdout.trim(),
          ),
      );
      const started = performance.now();
      await run('redis-cli', [
        '--cluster',
        'reshard',
        `127.0.0.1:${cluster.nodes[0]!.port}`,
        '--cluster-from',
        ids[0]!,
        '--cluster-to',
        ids[1]!,
        '--cluster-slots',
        '1000',
        '--cluster-yes',
      ]);
      figure('reshard_seconds', (performance.now() - started) / 1000);
      await sleep(1000);
      const samples = await load.stop();
      const perProject = orgs.map(
        (_, p) => samples.filter((s) => s.url.endsWith(`&p=${p}`) && s.status === 200).length,
      );
      figure('reshard_requests', samples.length);
      figure(
        'reshard_errors_beyond_policy',
        samples.filter((s) => ![200, 429, 503].includes(s.status)).length,
        { equals: 0 },
      );
      figure('reshard_policy_503', samples.filter((s) => s.status === 503).length);
      figure('reshard_max_admitted_per_project', Math.max(...perProject), { max: LIMIT });
    },
  );
  await cluster.stop();
}

if (scenario('flood')) {
  console.log('\n# 5. Key flood: 1,000,000 distinct projects');
  const store = new MemoryStore({ maxKeys: 100_000 });
  const quotas = new Quotas({
    store,
    getQuotas: () => [
      { id: 'p', scope: 'project', limit: 10, windowSeconds: 60, reasonCode: 'project_quota' },
    ],
  });
  let peak = process.memoryUsage().rss;
  for (let i = 0; i < 1_000_000; i++) {
    await quotas.isRateLimited({ id: i, organizationId: i % 1000 } as Project);
    if (i % 10_000 === 0) peak = Math.max(peak, process.memoryUsage().rss);
  }
  figure('flood_memory_store_keys', store.size, { max: 100_000 });
  figure('flood_memory_evicted', store.evicted);
  figure('flood_peak_rss_mb', peak / 2 ** 20);
  const redis = await startRedisServer();
  const client = new Redis(redis.url);
  const redisQuotas = new Quotas({
    store: new RedisStore(client, { timeoutMs: 5000 }),
    getQuotas: () => [
      { id: 'p', scope: 'project', limit: 10, windowSeconds: 60, reasonCode: 'project_quota' },
    ],
  });
  let next = 0;
  await Promise.all(
    Array.from({ length: 256 }, async () => {
      while (next < 1_000_000)
        await redisQuotas.isRateLimited({ id: next++, organizationId: next % 1000 });
    }),
  );
  let cursor = '0';
  let keys = 0;
  let withoutTtl = 0;
  do {
    const [nextCursor, batch] = await client.scan(cursor, 'COUNT', 10_000);
    cursor = nextCursor;
    keys += batch.length;
    const pipeline = client.pipeline();
    for (const key of batch) pipeline.pttl(key);
    const ttls = (await pipeline.exec()) ?? [];
    withoutTtl += ttls.filter(([, ttl]) => (ttl as number) < 0).length;
  } while (cursor !== '0');
  figure('flood_redis_keys', keys);
  figure('flood_redis_keys_without_ttl', withoutTtl, { equals: 0 });
  client.disconnect();
  await redis.stop();
}

if (scenario('hot')) {
  console.log('\n# 6. Hot key: one project far over quota at 2,000 req/s');
  const redis = await startRedisServer();
  await withApp({ REDIS_URL: redis.url, LIMIT: '10', WINDOW_SECONDS: '86400' }, async (app) => {
    const admin = new Redis(redis.url);
    await steadyLoad({
      url: `${app.url}/work?p=hot`,
      ratePerSecond: 100,
      maxRequests: 20,
      maxSeconds: 1,
    }).finished();
    const calls = async () => {
      const stats = await admin.info('commandstats');
      return [...stats.matchAll(/cmdstat_(\w+)[^:]*:calls=(\d+)/g)]
        .filter((m) => m[1] !== 'info')
        .reduce((n, m) => n + Number(m[2]), 0);
    };
    const before = await calls();
    const limited = await steadyLoad({
      url: `${app.url}/work?p=hot`,
      ratePerSecond: 2000,
      maxRequests: 10_000,
      maxSeconds: 5,
    }).finished();
    const commands = (await calls()) - before;
    const bare = await steadyLoad({
      url: `${app.url}/bare`,
      ratePerSecond: 2000,
      maxRequests: 10_000,
      maxSeconds: 5,
    }).finished();
    admin.disconnect();
    const rejected = limited.filter((s) => s.status === 429).length;
    figure('hot_rejected', rejected);
    figure('hot_redis_commands_per_rejected', commands / Math.max(1, rejected), { max: 0.01 });
    figure('hot_p99_ms_limited', latencyQuantile(limited, 0.99));
    figure('hot_p99_ms_no_limiter', latencyQuantile(bare, 0.99));
  });
  await redis.stop();
}

if (scenario('skew')) {
  console.log('\n# 7. Clock skew: two app processes 30 s apart on one Redis');
  const redis = await startRedisServer();
  const env = { REDIS_URL: redis.url, LIMIT: '100', WINDOW_SECONDS: '86400', TIMEOUT_MS: '1000' };
  const a = await startApp('fault-app.ts', { ...env, CLOCK_SKEW_MS: '0' });
  const b = await startApp('fault-app.ts', { ...env, CLOCK_SKEW_MS: '30000' });
  const statuses = await Promise.all(
    Array.from({ length: 1000 }, (_, i) =>
      fetch(`${(i % 2 ? a : b).url}/work?p=skew`).then((r) => r.status),
    ),
  );
  figure('skew_admitted', statuses.filter((s) => s === 200).length, { max: 100 });
  const holding = fetch(`${a.url}/slow?ms=1500`);
  await sleep(300);
  const other = await fetch(`${b.url}/slow?ms=10`);
  await holding;
  figure('skew_lease_reclaimed_early', other.status === 200 ? 'yes' : 'no', { equals: 'no' });
  await Promise.all([a.stop(), b.stop()]);
  await redis.stop();
}

console.log(missed === 0 ? '\nall bounds held' : `\n${missed} bound(s) missed`);
