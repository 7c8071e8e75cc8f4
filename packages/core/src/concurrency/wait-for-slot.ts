import type { HeldLease } from './lease.js';
import { type LocalWaiters, type Successor, Waiter } from './local-waiters.js';
import { retryDelayMs } from './retry-delay.js';

/**
 * The outcome of one acquire step: a lease; a full key, with the milliseconds until its earliest
 * lease expires; or `aborted` when the call's signal aborted while the step ran (any slot it
 * took was given back).
 *
 * @example
 * ```ts
 * const result: Attempt = await attempt();
 * if (result !== 'aborted' && !('expiresInMs' in result)) use(result);
 * ```
 */
export type Attempt = HeldLease | { readonly expiresInMs: number } | 'aborted';

/**
 * What {@link waitForSlot} needs.
 *
 * @example
 * ```ts
 * const search: SlotSearch = { attempt, forget, successor, waiters, storeKey, signal,
 *   deadline: performance.now() + 5000, retryIntervalMs: 1000, expiresInMs: 0 };
 * ```
 */
export interface SlotSearch {
  /** Runs one acquire step. */
  readonly attempt: () => Promise<Attempt>;
  /** Gives back, silently, a slot handed over after the call was aborted. */
  readonly forget: (lease: HeldLease) => Promise<void>;
  /** How a releasing holder of this process hands this call a slot. */
  readonly successor: Successor;
  /** This process's waiters on the store, and the lease set waited on. */
  readonly waiters: LocalWaiters;
  readonly storeKey: string;
  /** Give up at this instant of `performance.now()` (may be `Infinity`). */
  readonly deadline: number;
  readonly signal: AbortSignal | undefined;
  readonly retryIntervalMs: number;
  /** The first attempt's hint: ms until the earliest lease expires (0: none). */
  readonly expiresInMs: number;
}

/**
 * Waits for a slot until one comes, the deadline passes (a last attempt is made at the
 * deadline) or the signal aborts (the wait ends at once, not at the next retry). Between
 * attempts it sleeps as {@link retryDelayMs} says, in this process's queue of waiters for the
 * key, where a releasing holder of this process can hand it the slot directly. Resolves the
 * lease, or null.
 *
 * @example
 * ```ts
 * const lease = await waitForSlot({ attempt, forget, successor, waiters, storeKey, signal,
 *   deadline: performance.now() + 5000, retryIntervalMs: 1000, expiresInMs: 0 });
 * ```
 */
export async function waitForSlot(search: SlotSearch): Promise<HeldLease | null> {
  const { waiters, storeKey, signal } = search;
  let { expiresInMs } = search;
  const waiter = new Waiter(search.successor);
  const onAbort = () => waiter.interrupt();
  signal?.addEventListener('abort', onAbort, { once: true });
  waiters.join(storeKey, waiter);
  let lease: HeldLease | null = null;
  try {
    for (let retry = 0; lease === null; retry++) {
      const left = search.deadline - performance.now();
      if (left <= 0 || signal?.aborted) break;
      const pause = Math.min(left, retryDelayMs(retry, search.retryIntervalMs, expiresInMs));
      const handed = await waiter.sleep(pause);
      if (handed !== undefined) {
        if (signal?.aborted) {
          await search.forget(handed);
          break;
        }
        lease = handed;
        break;
      }
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
