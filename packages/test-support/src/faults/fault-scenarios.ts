import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import calculateSlot from 'cluster-key-slot';
import { Redis } from 'ioredis';
import { latencyQuantile, type Sample, type SteadyLoad, steadyLoad } from '../load/index.js';
import { type AppProcess, startApp } from '../processes/app-process.js';
import { type RedisServer, startRedisCluster, startRedisServer } from '../redis/index.js';

/**
 * The fault scenarios of the reliability suite, each against a private redis-server (or
 * Cluster) and the fault app (Fastify + sluice) in its own process, under a steady load from
 * this process. `test/faults` runs them small and asserts generous bounds; `bench/faults.ts`
 * runs them at full size and prints the tight figures.
 */

const run = promisify(execFile);

/** What the fault app's `/metrics` counts. */
export interface AppMetrics {
  accepted: number;
  dropped: number;
  storeErrors: number;
  lastStoreError: string;
  localAccepted: number;
  fallbackStarts: number;
  fallbackStops: number;
  maxEventLoopDelayMs: number;
}

/** Failed answers: 5xx, or no answer at all. */
export function serverErrors(samples: readonly Sample[]): number {
  return samples.filter((s) => s.status >= 500 || s.status === 0).length;
}

async function withRedisAndApp<T>(
  env: Record<string, string>,
  body: (redis: RedisServer, app: AppProcess) => Promise<T>,
): Promise<T> {
  const redis = await startRedisServer();
  const app = await startApp('fault-app.ts', { REDIS_URL: redis.url, ...env }).catch(
    async (error) => {
      await redis.stop();
      throw error;
    },
  );
  try {
    return await body(redis, app);
  } finally {
    redis.process.kill('SIGCONT');
    await app.stop();
    await redis.stop();
  }
}

/**
 * A steady load on one project of the fault app, already running for 800 ms when it resolves,
 * bounded at a minute; the scenario stops it once the fault has played out.
 */
async function warmLoad(app: AppProcess, ratePerSecond: number): Promise<SteadyLoad> {
  const load = steadyLoad({
    url: `${app.url}/work?p=1`,
    ratePerSecond,
    maxRequests: ratePerSecond * 60,
    maxSeconds: 60,
  });
  await sleep(800);
  return load;
}

/** Figures of a hung Redis (SIGSTOP). */
export interface HangResult {
  /** Requests sent while Redis was stopped, with room for one deadline at each edge. */
  readonly during: Sample[];
  readonly p99Ms: number;
  /** `store_error` events during the hang: decisions made by the policy. */
  readonly policyDecisions: number;
  /** Requests sent before SIGCONT still unanswered 1 s after it. */
  readonly pendingAfterResume: number;
  /** Store errors from half a second after SIGCONT to the end. */
  readonly storeErrorsAfterResume: number;
  /** Requests sent from half a second after SIGCONT to the end. */
  readonly afterResume: Sample[];
  readonly samples: Sample[];
  readonly appAlive: boolean;
}

/** Stops Redis with SIGSTOP for `hangMs` under `ratePerSecond`, then resumes it. */
export function redisHang(options: {
  policy: 'allow' | 'deny';
  ratePerSecond: number;
  hangMs: number;
  timeoutMs: number;
}): Promise<HangResult> {
  const { policy, ratePerSecond, hangMs, timeoutMs } = options;
  return withRedisAndApp({ POLICY: policy, TIMEOUT_MS: String(timeoutMs) }, async (redis, app) => {
    const load = await warmLoad(app, ratePerSecond);
    const before = await app.json<AppMetrics>('/metrics');
    const start = performance.now();
    redis.process.kill('SIGSTOP');
    await sleep(hangMs);
    const end = performance.now();
    redis.process.kill('SIGCONT');
    await sleep(500);
    const resumed = await app.json<AppMetrics>('/metrics');
    await sleep(500);
    const pendingAfterResume = load.pending(end);
    await sleep(500);
    const samples = await load.stop();
    const after = await app.json<AppMetrics>('/metrics');
    const during = samples.filter((s) => s.sentAt > start + 10 && s.sentAt < end - timeoutMs - 10);
    return {
      during,
      p99Ms: latencyQuantile(during, 0.99),
      policyDecisions: resumed.storeErrors - before.storeErrors,
      pendingAfterResume,
      storeErrorsAfterResume: after.storeErrors - resumed.storeErrors,
      afterResume: samples.filter((s) => s.sentAt > end + 500),
      samples,
      appAlive: app.child.exitCode === null,
    };
  });
}

/** Figures of a killed Redis restarted on the same port. */
export interface RestartResult {
  /** Requests sent while Redis was down, with room for one deadline at the end. */
  readonly down: Sample[];
  readonly p99Ms: number;
  /** Milliseconds from the server's return to the last store error. */
  readonly backOnRedisMs: number;
  readonly samples: Sample[];
  readonly appAlive: boolean;
  readonly unhandledRejections: number;
}

/** Kills Redis (SIGKILL) for `downMs` under `ratePerSecond`, then starts it on the same port. */
export function redisRestart(options: {
  ratePerSecond: number;
  downMs: number;
  timeoutMs: number;
}): Promise<RestartResult> {
  const { ratePerSecond, downMs, timeoutMs } = options;
  return withRedisAndApp({ POLICY: 'allow', TIMEOUT_MS: String(timeoutMs) }, async (first, app) => {
    const load = await warmLoad(app, ratePerSecond);
    const downAt = performance.now();
    await first.stop();
    await sleep(downMs);
    const upAt = performance.now();
    const second = await startRedisServer([], first.port);
    try {
      const returned = performance.now();
      let last = (await app.json<AppMetrics>('/metrics')).storeErrors;
      let lastChange = returned;
      while (performance.now() - returned < 2500) {
        await sleep(10);
        const now = (await app.json<AppMetrics>('/metrics')).storeErrors;
        if (now !== last) {
          last = now;
          lastChange = performance.now();
        }
      }
      const samples = await load.stop();
      const down = samples.filter((s) => s.sentAt > downAt + 10 && s.sentAt < upAt - timeoutMs);
      return {
        down,
        p99Ms: latencyQuantile(down, 0.99),
        backOnRedisMs: lastChange - returned,
        samples,
        appAlive: app.child.exitCode === null,
        unhandledRejections: (app.stderr().match(/Unhandled|uncaught/gi) ?? []).length,
      };
    } finally {
      await second.stop();
    }
  });
}

/** Figures of scripts flushed under load. */
export interface FlushResult {
  readonly samples: Sample[];
  readonly failed: number;
  readonly metrics: AppMetrics;
}

/** Runs `SCRIPT FLUSH` every 500 ms for `seconds` under `ratePerSecond` (deny policy: a failure shows). */
export function scriptFlush(options: {
  ratePerSecond: number;
  seconds: number;
  timeoutMs: number;
}): Promise<FlushResult> {
  const { ratePerSecond, seconds, timeoutMs } = options;
  return withRedisAndApp({ POLICY: 'deny', TIMEOUT_MS: String(timeoutMs) }, async (redis, app) => {
    const admin = new Redis(redis.url);
    try {
      const load = steadyLoad({
        url: `${app.url}/work?p=1`,
        ratePerSecond,
        maxRequests: ratePerSecond * seconds,
        maxSeconds: seconds,
      });
      for (let i = 0; i < seconds * 2; i++) {
        await sleep(500);
        await admin.script('FLUSH');
      }
      const samples = await load.finished();
      const metrics = await app.json<AppMetrics>('/metrics');
      return { samples, failed: samples.filter((s) => s.status !== 200).length, metrics };
    } finally {
      admin.disconnect();
    }
  });
}

/** Figures of a Cluster resharded under load. */
export interface ReshardResult {
  readonly samples: Sample[];
  readonly reshardSeconds: number;
  /** Answers other than 200, 429 and the deny policy's 503. */
  readonly beyondPolicy: number[];
  readonly policyRefusals: number;
  /** The most requests admitted for one project; each has `limit` per window. */
  readonly maxAdmittedPerProject: number;
}

/**
 * Moves `slots` slots from the first node to the second with `redis-cli --cluster reshard`
 * under `ratePerSecond`, spread over `projects` organizations whose keys live in those slots.
 */
export async function clusterReshard(options: {
  slots: number;
  projects: number;
  limit: number;
  ratePerSecond: number;
  seconds: number;
}): Promise<ReshardResult> {
  const { slots, projects, limit, ratePerSecond, seconds } = options;
  const cluster = await startRedisCluster(3);
  let app: AppProcess | undefined;
  try {
    app = await startApp('fault-app.ts', {
      CLUSTER_NODES: JSON.stringify(cluster.startupNodes),
      POLICY: 'deny',
      TIMEOUT_MS: '500',
      LIMIT: String(limit),
      WINDOW_SECONDS: '86400',
    });
    const url = app.url;
    // Organizations whose hash tag lies in the first slots of node 0: the ones the reshard moves.
    const orgs: number[] = [];
    for (let id = 0; orgs.length < projects; id++)
      if (calculateSlot(`{${id}}`) < slots) orgs.push(id);
    let i = 0;
    const load = steadyLoad({
      url: () => {
        const p = i++ % projects;
        return `${url}/work?o=${orgs[p]}&p=${p}`;
      },
      ratePerSecond,
      maxRequests: ratePerSecond * seconds,
      maxSeconds: seconds,
    });
    await sleep(1000);
    const [from, to] = await Promise.all(
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
      from!,
      '--cluster-to',
      to!,
      '--cluster-slots',
      String(slots),
      '--cluster-yes',
    ]);
    const reshardSeconds = (performance.now() - started) / 1000;
    const samples = await load.finished();
    const admitted = orgs.map(
      (_, p) => samples.filter((s) => s.url.endsWith(`&p=${p}`) && s.status === 200).length,
    );
    return {
      samples,
      reshardSeconds,
      beyondPolicy: samples.filter((s) => ![200, 429, 503].includes(s.status)).map((s) => s.status),
      policyRefusals: samples.filter((s) => s.status === 503).length,
      maxAdmittedPerProject: Math.max(...admitted),
    };
  } finally {
    await app?.stop();
    await cluster.stop();
  }
}

/** Figures of one project far over quota. */
export interface HotKeyResult {
  readonly limited: Sample[];
  readonly rejected: number;
  /** Redis commands (any but INFO, those run inside scripts included) per rejected request. */
  readonly commandsPerRejected: number;
  /** Scripts run (EVALSHA and EVAL) during the flood. */
  readonly scripts: number;
  /** How long the flood lasted, in seconds. */
  readonly floodSeconds: number;
  /** The same load on a route without the limiter. */
  readonly bare: Sample[];
}

/** Sends `requests` at `ratePerSecond` for one project over its quota of 10, then the same to a bare route. */
export function hotKey(options: {
  ratePerSecond: number;
  requests: number;
}): Promise<HotKeyResult> {
  const { ratePerSecond, requests } = options;
  return withRedisAndApp({ LIMIT: '10', WINDOW_SECONDS: '86400' }, async (redis, app) => {
    const admin = new Redis(redis.url);
    try {
      const calls = async () => {
        const stats = await admin.info('commandstats');
        let total = 0;
        let scripts = 0;
        for (const m of stats.matchAll(/cmdstat_(\w+)[^:]*:calls=(\d+)/g)) {
          if (m[1] !== 'info') total += Number(m[2]);
          if (m[1] === 'evalsha' || m[1] === 'eval') scripts += Number(m[2]);
        }
        return { total, scripts };
      };
      const seconds = Math.ceil(requests / ratePerSecond) + 1;
      const hot = `${app.url}/work?p=hot`;
      await steadyLoad({ url: hot, ratePerSecond: 100, maxRequests: 20, maxSeconds: 1 }).finished();
      const before = await calls();
      const floodStart = performance.now();
      const limited = await steadyLoad({
        url: hot,
        ratePerSecond,
        maxRequests: requests,
        maxSeconds: seconds,
      }).finished();
      const floodSeconds = (performance.now() - floodStart) / 1000;
      const after = await calls();
      const commands = after.total - before.total;
      const bare = await steadyLoad({
        url: `${app.url}/bare`,
        ratePerSecond,
        maxRequests: requests,
        maxSeconds: seconds,
      }).finished();
      const rejected = limited.filter((s) => s.status === 429).length;
      return {
        limited,
        rejected,
        commandsPerRejected: commands / Math.max(1, rejected),
        scripts: after.scripts - before.scripts,
        floodSeconds,
        bare,
      };
    } finally {
      admin.disconnect();
    }
  });
}

/** Figures of two app processes whose clocks differ by 30 s on one Redis. */
export interface SkewResult {
  readonly statuses: number[];
  readonly admitted: number;
  readonly limit: number;
  /** The status B got for the one slot A held under a 2 s lease (must be 429). */
  readonly whileHeld: number;
  readonly reasonWhileHeld: string | null;
  /** The status B got once A's response had ended (its slot is released on the response's close). */
  readonly afterRelease: number;
  /** Milliseconds from A's response until B got the slot. */
  readonly releasedWithinMs: number;
}

/** Sends `requests` split over both apps for one project, then contends for one leased slot. */
export async function clockSkew(options: { requests: number; limit: number }): Promise<SkewResult> {
  const { requests, limit } = options;
  const window = 86_400;
  const redis = await startRedisServer();
  const apps: AppProcess[] = [];
  try {
    const admin = new Redis(redis.url);
    // Stay clear of the window boundary (org 1: windows start at 1 s past midnight UTC).
    const [seconds] = (await admin.time()) as [number, number];
    admin.disconnect();
    const toBoundary = window - ((Number(seconds) - 1) % window);
    if (toBoundary < 30) await sleep((toBoundary + 2) * 1000);
    const env = {
      REDIS_URL: redis.url,
      LIMIT: String(limit),
      WINDOW_SECONDS: String(window),
      TIMEOUT_MS: '1000',
    };
    apps.push(await startApp('fault-app.ts', { ...env, CLOCK_SKEW_MS: '0' }));
    apps.push(await startApp('fault-app.ts', { ...env, CLOCK_SKEW_MS: '30000' }));
    const [a, b] = apps as [AppProcess, AppProcess];
    const statuses = await Promise.all(
      Array.from({ length: requests }, (_, i) =>
        fetch(`${(i % 2 ? a : b).url}/work?p=skew`).then((r) => r.status),
      ),
    );
    // A holds the one slot for 1.5 s with a 2 s lease; B, 30 s ahead, must not reclaim it.
    const holding = fetch(`${a.url}/slow?ms=1500`);
    await sleep(300);
    const refused = await fetch(`${b.url}/slow?ms=10`);
    await holding;
    // A's app gives the slot back when its response closes, just after the client read it.
    const answered = performance.now();
    let after = await fetch(`${b.url}/slow?ms=10`);
    while (after.status === 429 && performance.now() - answered < 1000) {
      await sleep(20);
      after = await fetch(`${b.url}/slow?ms=10`);
    }
    return {
      statuses,
      admitted: statuses.filter((s) => s === 200).length,
      limit,
      whileHeld: refused.status,
      reasonWhileHeld: refused.headers.get('x-sentry-rate-limit-reason'),
      afterRelease: after.status,
      releasedWithinMs: performance.now() - answered,
    };
  } finally {
    await Promise.all(apps.map((a) => a.stop()));
    await redis.stop();
  }
}
