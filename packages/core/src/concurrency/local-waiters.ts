import type { Store } from '../store/store.js';

/**
 * One waiting `acquire`: it sleeps between attempts, and a release of the same key in this
 * process wakes it at once, so a local slot changes hands without waiting for the next retry.
 * Waiters in other processes find freed slots on their own jittered schedule.
 */
export class Waiter {
  /** An unconsumed wake: the next sleep returns at once. Cleared when an attempt starts. */
  woken = false;
  #resolve: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;

  /** Resolves after `ms`, or at once when woken or interrupted. */
  sleep(ms: number): Promise<void> {
    if (this.woken) return Promise.resolve();
    return new Promise((resolve) => {
      this.#resolve = resolve;
      this.#timer = setTimeout(() => this.interrupt(), ms);
    });
  }

  /** Ends the current sleep without leaving a wake behind (an abort does this). */
  interrupt(): void {
    clearTimeout(this.#timer);
    const resolve = this.#resolve;
    this.#resolve = undefined;
    resolve?.();
  }

  /** A slot may have freed: attempt now, or right after the attempt under way. */
  wake(): void {
    this.woken = true;
    this.interrupt();
  }
}

/** The waiters of one store in this process, per lease-set key, in arrival order. */
export class LocalWaiters {
  readonly #queues = new Map<string, Set<Waiter>>();

  /** Queues `waiter` on `key`. */
  join(key: string, waiter: Waiter): void {
    let queue = this.#queues.get(key);
    if (queue === undefined) {
      queue = new Set();
      this.#queues.set(key, queue);
    }
    queue.add(waiter);
  }

  /** Removes `waiter`; a wake it did not use goes to the next waiter. */
  leave(key: string, waiter: Waiter, acquired: boolean): void {
    const queue = this.#queues.get(key);
    if (queue === undefined || !queue.delete(waiter)) return;
    if (queue.size === 0) this.#queues.delete(key);
    else if (waiter.woken && !acquired) this.wake(key, 1);
  }

  /** Wakes up to `count` waiters of `key` that have no wake pending, oldest first. */
  wake(key: string, count: number): void {
    const queue = this.#queues.get(key);
    if (queue === undefined) return;
    let left = count;
    for (const waiter of queue) {
      if (left <= 0) break;
      if (waiter.woken) continue;
      waiter.wake();
      left--;
    }
  }

  /** Wakes every waiter of `key` (after a reset). */
  wakeAll(key: string): void {
    const queue = this.#queues.get(key);
    if (queue !== undefined) this.wake(key, queue.size);
  }
}

const byStore = new WeakMap<Store, LocalWaiters>();

/** The waiters on `store` in this process, shared by every limiter on that store. */
export function localWaiters(store: Store): LocalWaiters {
  let waiters = byStore.get(store);
  if (waiters === undefined) {
    waiters = new LocalWaiters();
    byStore.set(store, waiters);
  }
  return waiters;
}
