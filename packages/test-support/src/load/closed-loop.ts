import { percentile } from './percentile.js';

/** What one {@link closedLoop} measured. */
export interface LoadResult {
  /** Operations completed in the measured period. */
  readonly ops: number;
  /** Operations completed during the warm-up. */
  readonly warmupOps: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Microseconds of this process's CPU (user + system) per operation of the measured period. */
  readonly cpuUsPerOp: number;
  readonly elapsedMs: number;
}

/**
 * A closed-loop load: `concurrency` callers each await one operation after another for
 * `durationMs`, after a warm-up of `warmupMs` (300 by default). Each call gets the next index,
 * counted on from the warm-up, so no two calls share one. Reports throughput, latency
 * percentiles and the Node process's CPU time per operation.
 *
 * @example
 * ```ts
 * const limiter = new Quotas(new MemoryStore());
 * const result = await closedLoop((i) => limiter.checkAndUse(projects[i % projects.length]!), {
 *   concurrency: 64,
 *   durationMs: 2000,
 * });
 * console.log(`${fmt(result.perSecond)} checks/s, p99 ${fmt(result.p99Ms, 2)} ms`);
 * ```
 */
export async function closedLoop(
  operation: (i: number) => Promise<unknown>,
  {
    concurrency,
    durationMs,
    warmupMs = 300,
  }: { concurrency: number; durationMs: number; warmupMs?: number },
): Promise<LoadResult> {
  let next = 0;
  const drive = async (ms: number, latencies: number[]) => {
    const deadline = performance.now() + ms;
    const worker = async () => {
      while (performance.now() < deadline) {
        const start = performance.now();
        await operation(next++);
        latencies.push(performance.now() - start);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  };
  const warmup: number[] = [];
  await drive(warmupMs, warmup);
  const latencies: number[] = [];
  const cpu = process.cpuUsage();
  const started = performance.now();
  await drive(durationMs, latencies);
  const elapsedMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  latencies.sort((a, b) => a - b);
  return {
    ops: latencies.length,
    warmupOps: warmup.length,
    perSecond: (latencies.length / elapsedMs) * 1000,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    cpuUsPerOp: (used.user + used.system) / latencies.length,
    elapsedMs,
  };
}
