import type { Store } from '../store/store.js';
import type { HeldLease } from './lease.js';

/**
 * What a waiter's limiter needs so that a releasing holder can hand it a slot.
 *
 * @example
 * ```ts
 * const successor: Successor = { limit: 5, leaseMs: 60_000, lease: (id, inFlight) => makeLease(id, inFlight) };
 * ```
 */
export interface Successor {
  readonly limit: number;
  readonly leaseMs: number;
  /** The lease, once the store admitted `id` for this waiter. */
  lease(id: string, inFlight: number): HeldLease;
}

/**
 * One waiting `acquire` of this process. It sleeps between attempts; a holder of the same key
 * releasing in this process either hands it the slot in the release's own store step (the
 * waiter is *reserved* meanwhile, so it never races for that slot), or wakes it to try at once.
 *
 * @example
 * ```ts
 * const waiter = new Waiter(successor);
 * const handed = await waiter.sleep(250); // a lease handed over, or undefined
 * ```
 */
export class Waiter {
  /** An unconsumed wake: the next sleep returns at once. Cleared when an attempt starts. */
  woken = false;
  readonly successor: Successor;
  #resolve: ((lease: HeldLease | undefined) => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #reserved = false;
  /** The sleep ran out (or was interrupted) while reserved: end it when the reservation ends. */
  #due = false;

  constructor(successor: Successor) {
    this.successor = successor;
  }

  /**
   * Resolves after `ms`, at once when woken or interrupted, or with the lease a releasing holder
   * handed over. A reserved waiter's sleep ends only when its reservation does.
   */
  sleep(ms: number): Promise<HeldLease | undefined> {
    if (this.woken) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      this.#resolve = resolve;
      this.#due = false;
      this.#timer = setTimeout(() => this.interrupt(), ms);
    });
  }

  /** Ends the current sleep (its timer, or an abort) without leaving a wake behind. */
  interrupt(): void {
    clearTimeout(this.#timer);
    if (this.#reserved) this.#due = true;
    else this.#settle(undefined);
  }

  /** A slot may have freed: attempt now, or right after the attempt under way. */
  wake(): void {
    this.woken = true;
    this.interrupt();
  }

  /** Reserves this waiter for a hand-over; false unless it is asleep and not yet reserved. */
  reserve(): boolean {
    if (this.#resolve === undefined || this.#reserved) return false;
    this.#reserved = true;
    return true;
  }

  /**
   * Ends a reservation: with `lease`, the sleep resolves with it; without, the waiter sleeps on,
   * or goes on at once when its sleep ran out meanwhile.
   */
  handOver(lease: HeldLease | undefined): void {
    this.#reserved = false;
    if (lease !== undefined) {
      clearTimeout(this.#timer);
      this.#settle(lease);
    } else if (this.#due) {
      this.#settle(undefined);
    }
  }

  #settle(lease: HeldLease | undefined): void {
    const resolve = this.#resolve;
    this.#resolve = undefined;
    resolve?.(lease);
  }
}

/**
 * The waiters of one store in this process, per lease-set key, oldest first.
 *
 * @example
 * ```ts
 * const waiters = localWaiters(store);
 * const next = waiters.reserve(setKey); // the oldest sleeping waiter, reserved for a hand-over
 * ```
 */
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

  /** True when some call of this process is waiting on `key`. */
  has(key: string): boolean {
    return this.#queues.has(key);
  }

  /** Reserves the oldest sleeping waiter of `key` for a hand-over. */
  reserve(key: string): Waiter | undefined {
    const queue = this.#queues.get(key);
    if (queue === undefined) return undefined;
    for (const waiter of queue) if (waiter.reserve()) return waiter;
    return undefined;
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

/**
 * The waiters on `store` in this process, shared by every limiter on that store.
 *
 * @example
 * ```ts
 * localWaiters(store).wake(setKey, 1);
 * ```
 */
export function localWaiters(store: Store): LocalWaiters {
  let waiters = byStore.get(store);
  if (waiters === undefined) {
    waiters = new LocalWaiters();
    byStore.set(store, waiters);
  }
  return waiters;
}
