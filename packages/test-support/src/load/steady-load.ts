import { Agent, request } from 'node:http';
import { percentile } from './percentile.js';

/** One request of a steady load: when it was sent, how long it took, and its status (0: failed). */
export interface Sample {
  readonly url: string;
  readonly sentAt: number;
  readonly ms: number;
  readonly status: number;
}

/** A running open-loop load; `stop()` ends it and resolves every sample once all are answered. */
export interface SteadyLoad {
  readonly samples: Sample[];
  /** Requests sent (before `sentBefore`, a `performance.now()` time, when given) and not answered yet. */
  pending(sentBefore?: number): number;
  /** Ends the load now and resolves every sample once all sent requests are answered. */
  stop(): Promise<Sample[]>;
  /** Resolves every sample once the load has run to its own bound (count or time). */
  finished(): Promise<Sample[]>;
}

/**
 * Sends `ratePerSecond` requests per second to `url` (bounded by `maxRequests` and
 * `maxSeconds`), whether or not earlier ones were answered, as a real traffic source does.
 * Each request has its own `timeoutMs` so a hung server cannot hold the load forever.
 */
export function steadyLoad(options: {
  url: string | (() => string);
  ratePerSecond: number;
  maxRequests: number;
  maxSeconds: number;
  timeoutMs?: number;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}): SteadyLoad {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const samples: Sample[] = [];
  const inflight = new Map<Promise<void>, number>();
  const started = performance.now();
  let sent = 0;
  const fire = () => {
    const sentAt = performance.now();
    const url = typeof options.url === 'function' ? options.url() : options.url;
    const done = new Promise<void>((resolve) => {
      let settled = false;
      const finish = (status: number) => {
        if (settled) return;
        settled = true;
        samples.push({ url, sentAt, ms: performance.now() - sentAt, status });
        resolve();
      };
      const req = request(
        url,
        { agent, method: options.method ?? 'GET', headers: options.headers },
        (res) => {
          res.resume();
          res.on('end', () => finish(res.statusCode ?? 0));
          res.on('error', () => finish(0));
        },
      );
      req.setTimeout(options.timeoutMs ?? 5000, () => req.destroy(new Error('timeout')));
      req.on('error', () => finish(0));
      req.end(options.body);
    }).finally(() => inflight.delete(done));
    inflight.set(done, sentAt);
  };
  const interval = 1000 / options.ratePerSecond;
  let reachedBound: () => void = () => {};
  const bound = new Promise<void>((resolve) => {
    reachedBound = resolve;
  });
  const tick = () => {
    const elapsed = performance.now() - started;
    const due = Math.floor(elapsed / interval) + 1;
    while (sent < due && sent < options.maxRequests && elapsed < options.maxSeconds * 1000) {
      sent++;
      fire();
    }
    if (sent >= options.maxRequests || elapsed >= options.maxSeconds * 1000) {
      clearInterval(timer);
      reachedBound();
    }
  };
  const timer = setInterval(tick, Math.max(1, Math.floor(interval)));
  const stop = async () => {
    clearInterval(timer);
    reachedBound();
    while (inflight.size > 0) await Promise.all(inflight.keys());
    agent.destroy();
    return samples;
  };
  return {
    samples,
    pending: (sentBefore = Number.POSITIVE_INFINITY) =>
      [...inflight.values()].filter((t) => t < sentBefore).length,
    stop,
    async finished() {
      await bound;
      return stop();
    },
  };
}

/**
 * The `q` quantile of the latencies of `samples`.
 *
 * @example
 * ```ts
 * const samples = await steadyLoad({ url, ratePerSecond: 200, maxRequests: 400, maxSeconds: 5 }).finished();
 * const p99Ms = latencyQuantile(samples, 0.99);
 * ```
 */
export function latencyQuantile(samples: readonly Sample[], q: number): number {
  return percentile(
    samples.map((s) => s.ms).sort((a, b) => a - b),
    q,
  );
}
