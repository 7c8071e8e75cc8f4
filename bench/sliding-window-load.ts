/**
 * Load helpers of the sliding-window benchmark: a closed loop (each of `concurrency` callers
 * awaits one call after another).
 */

/** What one closed loop measured. */
export interface Load {
  /** Calls completed in the measured period. */
  readonly ops: number;
  /** Calls completed during the warm-up. */
  readonly warmupOps: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** Runs `call` from `concurrency` callers for `durationMs`, after a 300 ms warm-up. */
export async function closedLoop(
  call: (i: number) => Promise<unknown>,
  { concurrency, durationMs }: { concurrency: number; durationMs: number },
): Promise<Load> {
  let next = 0;
  const drive = async (ms: number, latencies: number[]) => {
    const deadline = performance.now() + ms;
    const worker = async () => {
      while (performance.now() < deadline) {
        const start = performance.now();
        await call(next++);
        latencies.push(performance.now() - start);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  };
  const warmup: number[] = [];
  await drive(300, warmup);
  const latencies: number[] = [];
  const started = performance.now();
  await drive(durationMs, latencies);
  const elapsed = performance.now() - started;
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
  return {
    ops: latencies.length,
    warmupOps: warmup.length,
    perSecond: (latencies.length / elapsed) * 1000,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
  };
}
