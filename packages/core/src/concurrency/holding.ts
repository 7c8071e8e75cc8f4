import type { HeldLease, Lease } from './lease.js';

/**
 * How {@link holdWhile} runs a function.
 *
 * @example
 * ```ts
 * const holding: Holding = { signal: request.signal, extendEveryMs: undefined };
 * ```
 */
export interface Holding {
  /** Aborting it ends the hold: the call rejects with its reason and `lease.signal` aborts. */
  readonly signal: AbortSignal | undefined;
  /** Extend the lease every this many ms while the function runs; undefined: never. */
  readonly extendEveryMs: number | undefined;
}

/**
 * Runs `fn(lease)` and releases the lease on every exit path: return, throw, or the signal
 * aborting while `fn` runs (the call then rejects with the signal's reason at once; `fn` is told
 * through `lease.signal`). A failed release rejects the call, as a `finally` would.
 *
 * @example
 * ```ts
 * const value = await holdWhile(lease, (l) => work(l.signal), { signal, extendEveryMs: 100_000 });
 * ```
 */
export async function holdWhile<T>(
  lease: HeldLease,
  fn: (lease: Lease) => T | Promise<T>,
  holding: Holding,
): Promise<T> {
  const { signal, extendEveryMs } = holding;
  const stopExtending =
    extendEveryMs === undefined ? undefined : keepExtending(lease, extendEveryMs);
  let onAbort: (() => void) | undefined;
  try {
    const work = (async () => fn(lease))();
    if (signal === undefined) return await work;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => {
        lease.end(() => signal.reason);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      if (signal.aborted) onAbort();
    });
    // race() subscribes to both, so the loser's later rejection is never unhandled.
    return await Promise.race([work, aborted]);
  } finally {
    stopExtending?.();
    if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
    await lease.release();
  }
}

/**
 * Extends `lease` every `everyMs` until stopped or until an extension finds it lost; returns the
 * stop function. A store failure is retried at the next tick: the lease may still be live.
 *
 * @example
 * ```ts
 * const stop = keepExtending(lease, 100_000);
 * try { await longJob(); } finally { stop(); }
 * ```
 */
export function keepExtending(lease: HeldLease, everyMs: number): () => void {
  let extending = false;
  const timer = setInterval(() => {
    if (extending) return;
    extending = true;
    lease.extend().then(
      (renewed) => {
        extending = false;
        if (!renewed) clearInterval(timer);
      },
      () => {
        extending = false;
      },
    );
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
