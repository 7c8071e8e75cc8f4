/**
 * A closed-loop load: `concurrency` callers each await one operation after another for
 * `durationMs`, after a short warm-up. Reports throughput, latency percentiles and the Node
 * process's CPU time per operation.
 */
export interface LoadResult {
  readonly ops: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Microseconds of this process's CPU (user + system) per operation. */
  readonly cpuUsPerOp: number;
  readonly elapsedMs: number;
}

/** Runs `operation` from `concurrency` callers for `durationMs` and measures it. */
export async function closedLoop(
  operation: (i: number) => Promise<unknown>,
  {
    concurrency,
    durationMs,
    warmupMs = 300,
  }: { concurrency: number; durationMs: number; warmupMs?: number },
): Promise<LoadResult> {
  await drive(operation, concurrency, warmupMs, null);
  const latencies: number[] = [];
  const cpu = process.cpuUsage();
  const started = performance.now();
  const ops = await drive(operation, concurrency, durationMs, latencies);
  const elapsedMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  latencies.sort((a, b) => a - b);
  return {
    ops,
    perSecond: (ops / elapsedMs) * 1000,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    cpuUsPerOp: (used.user + used.system) / ops,
    elapsedMs,
  };
}

async function drive(
  operation: (i: number) => Promise<unknown>,
  concurrency: number,
  durationMs: number,
  latencies: number[] | null,
): Promise<number> {
  const deadline = performance.now() + durationMs;
  let count = 0;
  const worker = async () => {
    while (performance.now() < deadline) {
      const start = performance.now();
      await operation(count++);
      latencies?.push(performance.now() - start);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return latencies?.length ?? count;
}

/** The `q` quantile of sorted `values`. */
export function percentile(values: number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  return values[Math.min(values.length - 1, Math.floor(q * values.length))]!;
}

/** Formats a number with `digits` decimals, thousands grouped. */
export function fmt(value: number, digits = 0): string {
  return value.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}
