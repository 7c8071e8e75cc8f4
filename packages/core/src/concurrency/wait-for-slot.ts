import type { HeldLease } from './lease.js';
import { type LocalWaiters, Waiter } from './local-waiters.js';
import { retryDelayMs } from './retry-delay.js';

/**
 * The outcome of one acquire step: a lease; a full key, with the milliseconds until its earliest
 * lease expires; or `aborted` when the call's signal aborted while the step ran (any slot it
 * took was given back).
 */
export type Attempt = HeldLease | { readonly expiresInMs: number } | 'aborted';

/** What {@link waitForSlot} needs. */
export interface SlotSearch {
  /** Runs one acquire step. */
  readonly attempt: () => Promise<Attempt>;
  /** This process's waiters on the store, and the lease set waited on. */
  readonly waiters: LocalWaiters;
  readonly storeKey: string;
  /** Give up at this instant of `performance.now()` (may be `Infinity`). */
  readonly deadline: number;
  readonly signal: AbortSignal | undefined;
  readonly retryIntervalMs: number;
  /** The first attempt's hint: ms until the earliest lease expires. */
  readonly expiresInMs: number;
}

/**
 * Retries a full key until a slot comes, the deadline passes (a last attempt is made at the
 * deadline) or the signal aborts (the wait ends at once, not at the next retry). Pauses follow
 * {@link retryDelayMs}; a release of the same key in this process wakes one waiter at once.
 * Resolves the lease, or null.
 *
 * @example
 * ```ts
 * const lease = await waitForSlot({ attempt, waiters, storeKey, deadline: performance.now() + 5000,
 *   signal, retryIntervalMs: 1000, expiresInMs: first.expiresInMs });
 * ```
 */
export async function waitForSlot(search: SlotSearch): Promise<HeldLease | null> {
  const { waiters, storeKey, signal } = search;
  let { expiresInMs } = search;
  const waiter = new Waiter();
  const onAbort = () => waiter.interrupt();
  signal?.addEventListener('abort', onAbort, { once: true });
  waiters.join(storeKey, waiter);
  let lease: HeldLease | null = null;
  try {
    for (let retry = 0; lease === null; retry++) {
      const left = search.deadline - performance.now();
      if (left <= 0 || signal?.aborted) break;
      await waiter.sleep(Math.min(left, retryDelayMs(retry, search.retryIntervalMs, expiresInMs)));
      if (signal?.aborted) break;
      waiter.woken = false;
      const result = await search.attempt();
      if (result === 'aborted') break;
      if ('expiresInMs' in result) expiresInMs = result.expiresInMs;
      else lease = result;
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    waiters.leave(storeKey, waiter, lease !== null);
  }
  return lease;
}
