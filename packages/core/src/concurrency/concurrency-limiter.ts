import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { InvalidConfiguration, isStoreUnavailable } from '../errors.js';
import { type DecisionScope, decisionChannel, ENGINE_SCOPE } from '../metrics/decision-channel.js';
import { hashTag } from '../store/key-parts.js';
import type { Store } from '../store/store.js';
import { publishConcurrencyDecision } from './concurrency-decision-message.js';
import type { ConcurrencyEvents } from './concurrency-events.js';
import {
  type AcquireOptions,
  abortSignal,
  type ConcurrencyLimiterOptions,
  type ResolvedConcurrencyLimiterOptions,
  type RunOptions,
  type RunResult,
  resolveConcurrencyLimiterOptions,
  waitMs,
} from './concurrency-options.js';
import { GiveBackQueue } from './give-back-queue.js';
import { holdWhile } from './holding.js';
import { HeldLease, type Lease, type LeaseOwner } from './lease.js';
import { type Admission, acquireOperation } from './lease-acquire.js';
import { extendOperation } from './lease-extend.js';
import { countOperation, resetOperation } from './lease-operations.js';
import { type Release, releaseOperation } from './lease-release.js';
import { type LocalWaiters, localWaiters } from './local-waiters.js';
import { type Attempt, waitForSlot } from './wait-for-slot.js';

/** {@link ConcurrencyLimiter.acquire} in a caller's {@link DecisionScope}; set by the class. */
let scopedAcquire: (
  limiter: ConcurrencyLimiter,
  key: string,
  opts: AcquireOptions,
  scope: DecisionScope,
) => Promise<Lease | null>;

/**
 * `limiter.acquire(key, opts)` with its `sluice:decision` message in `scope`: how the HTTP
 * layer says that a stage decides in shadow, and for which project. Internal: not exported
 * from the package.
 *
 * @example
 * ```ts
 * const lease = await acquireIn(limiter, slotKey, { shadow: false, local: false, project });
 * ```
 */
export function acquireIn(
  limiter: ConcurrencyLimiter,
  key: string,
  scope: DecisionScope,
  opts: AcquireOptions = {},
): Promise<Lease | null> {
  return scopedAcquire(limiter, key, opts, scope);
}

/**
 * A distributed semaphore with leases: at most `limit` live leases per key, across every
 * process sharing the store. A lease that is not released (crashed holder) expires after
 * `leaseSeconds` of the store's clock and its slot is reclaimed by the next acquire, in the same
 * atomic step. Release is by lease id and never frees another holder's slot.
 *
 * The honest promise: at most `limit` holders, except a holder that outlives its lease (a paused
 * or partitioned process); such a holder's `extend()` resolves false.
 *
 * @example
 * ```ts
 * const limiter = new ConcurrencyLimiter(new RedisStore(redis), {
 *   limit: 50, leaseSeconds: 300, waitSeconds: 60,
 * });
 * limiter.events.on('skipped', ({ key }) => metrics.incr('skipped_no_slot', { key }));
 * const result = await limiter.run('snuba', (lease) => querySnuba({ signal: lease.signal }));
 * if (!result.acquired) return; // no slot within 60 s: skip gracefully
 * ```
 *
 * Each `acquire` (and `run`) that gets a lease or waits in vain publishes one message on
 * `sluice:decision` when that channel has a subscriber (see `docs/metrics.md`).
 */
export class ConcurrencyLimiter {
  /** Where the leases live. */
  readonly store: Store;
  /** Most live leases per key. */
  readonly limit: number;
  /** Seconds a lease lasts unless released or extended. */
  readonly leaseSeconds: number;
  /** Default seconds a call waits for a slot. */
  readonly waitSeconds: number;
  /** Longest pause between two attempts of a waiting call, in seconds. */
  readonly retryIntervalSeconds: number;
  /** Whether `run` extends its lease while `fn` runs, unless the call says otherwise. */
  readonly autoExtend: boolean;
  /**
   * `acquired`, `released`, `waited`, `timeout`, `skipped`, `reclaimed` and `lost`; see
   * {@link ConcurrencyEvents}.
   */
  readonly events = new EventEmitter<ConcurrencyEvents>();

  readonly #options: ResolvedConcurrencyLimiterOptions;
  readonly #waiters: LocalWaiters;
  /** Ids that may hold a slot nobody holds: given back in the background until their lease ends. */
  readonly #giveBacks: GiveBackQueue;
  readonly #owner: LeaseOwner = {
    release: (lease) => this.#release(lease),
    extend: (lease) => this.#extend(lease),
  };

  static {
    scopedAcquire = (limiter, key, opts, scope) => limiter.#acquire(key, opts, scope);
  }

  constructor(store: Store, options: ConcurrencyLimiterOptions) {
    this.#options = resolveConcurrencyLimiterOptions(store, options);
    this.store = this.#options.store;
    this.limit = this.#options.limit;
    this.leaseSeconds = this.#options.leaseMs / 1000;
    this.waitSeconds = this.#options.waitMs / 1000;
    this.retryIntervalSeconds = this.#options.retryIntervalMs / 1000;
    this.autoExtend = this.#options.autoExtend;
    this.#waiters = localWaiters(this.store);
    this.#giveBacks = new GiveBackQueue({
      leaseMs: this.#options.leaseMs,
      release: (storeKey, id) => this.#forget(storeKey, id),
    });
  }

  /**
   * Takes a slot of `key`, waiting up to `waitSeconds` for one with jittered retries; resolves
   * `null` when none came in time or `signal` aborted (the caller skips gracefully). Rejects with
   * `StoreUnavailableError` when the store fails.
   *
   * @example
   * ```ts
   * const lease = await limiter.acquire(`org:${orgId}`, { waitSeconds: 10 });
   * if (lease === null) return skip();
   * try { await work(); } finally { await lease.release(); }
   * ```
   */
  acquire(key: string, opts: AcquireOptions = {}): Promise<Lease | null> {
    return this.#acquire(key, opts, ENGINE_SCOPE);
  }

  async #acquire(key: string, opts: AcquireOptions, scope: DecisionScope): Promise<Lease | null> {
    const storeKey = this.#storeKey(key);
    const wait =
      opts.waitSeconds === undefined
        ? this.#options.waitMs
        : waitMs('waitSeconds', opts.waitSeconds);
    const signal = abortSignal('signal', opts.signal);
    if (signal?.aborted) return null;
    const startedAt = performance.now();
    const attempt = () => this.#attempt(key, storeKey, signal);
    let expiresInMs = 0;
    // While calls of this process already wait on the key, a newcomer queues behind them: a slot
    // freed here goes to the oldest waiter anyway, so its own attempt would be a wasted trip.
    if (wait === 0 || !this.#waiters.has(storeKey)) {
      const first = await attempt();
      if (first === 'aborted') return null;
      if (!('expiresInMs' in first)) return this.#granted(first, 0, scope);
      if (wait === 0) return this.#timedOut(key, 0, scope);
      expiresInMs = first.expiresInMs;
    }
    const lease = await waitForSlot({
      attempt,
      forget: (held) => this.#giveBack(held.storeKey, held.id),
      successor: {
        limit: this.#options.limit,
        leaseMs: this.#options.leaseMs,
        lease: (id, inFlight) => new HeldLease(this.#owner, { key, storeKey, id, inFlight }),
      },
      waiters: this.#waiters,
      storeKey,
      deadline: startedAt + wait,
      signal,
      retryIntervalMs: this.#options.retryIntervalMs,
      expiresInMs,
    });
    const seconds = (performance.now() - startedAt) / 1000;
    this.#emit('waited', { key, seconds, acquired: lease !== null });
    if (lease !== null) return this.#granted(lease, seconds, scope);
    return signal?.aborted ? null : this.#timedOut(key, seconds, scope);
  }

  /**
   * Runs `fn` while holding a slot of `key` and releases it on every exit path: return, throw,
   * or `signal` aborting while `fn` runs (the call then rejects with the signal's reason and
   * `lease.signal` aborts, so `fn` can stop). Resolves `{ acquired: false }` without calling
   * `fn` when no slot came. A failed release rejects the call, as a `finally` would.
   *
   * @example
   * ```ts
   * const result = await limiter.run('snuba', async (lease) => fetchProjections({ signal: lease.signal }),
   *   { waitSeconds: 60 });
   * if (!result.acquired) logger.warning('run_spike_projection.slot_not_acquired');
   * ```
   */
  async run<T>(
    key: string,
    fn: (lease: Lease) => T | Promise<T>,
    opts: RunOptions = {},
  ): Promise<RunResult<T>> {
    if (typeof fn !== 'function') throw new InvalidConfiguration('fn', fn, 'a function');
    const autoExtend = opts.autoExtend ?? this.autoExtend;
    if (typeof autoExtend !== 'boolean') {
      throw new InvalidConfiguration('autoExtend', autoExtend, 'a boolean');
    }
    const lease = (await this.acquire(key, opts)) as HeldLease | null;
    const { signal } = opts;
    if (lease === null || signal?.aborted) {
      await lease?.release();
      this.#emit('skipped', { key, reason: signal?.aborted ? 'aborted' : 'timeout' });
      return { acquired: false };
    }
    const extendEveryMs = autoExtend ? this.#options.extendEveryMs : undefined;
    return { acquired: true, value: await holdWhile(lease, fn, { signal, extendEveryMs }) };
  }

  /**
   * Live leases of `key`, across every process sharing the store.
   *
   * @example
   * ```ts
   * metrics.gauge('concurrent_queries', await limiter.inFlight('snuba'));
   * ```
   */
  async inFlight(key: string): Promise<number> {
    return this.store.run(countOperation, { key: this.#storeKey(key) });
  }

  /**
   * Drops every lease of `key`, freeing all its slots at once (an operator's escape hatch). The
   * dropped holders' `extend()` then resolves false and their `release()` frees nothing.
   *
   * @example
   * ```ts
   * await limiter.reset('snuba');
   * ```
   */
  async reset(key: string): Promise<void> {
    const storeKey = this.#storeKey(key);
    await this.store.run(resetOperation, { key: storeKey });
    this.#waiters.wakeAll(storeKey);
  }

  #storeKey(key: string): string {
    if (typeof key !== 'string') throw new InvalidConfiguration('key', key, 'a string');
    return `${this.store.prefix}:c:${hashTag(key)}`;
  }

  /** One acquire step. */
  async #attempt(key: string, storeKey: string, signal: AbortSignal | undefined): Promise<Attempt> {
    const { limit, leaseMs } = this.#options;
    const id = randomUUID();
    let admission: Admission;
    try {
      admission = await this.store.run(acquireOperation, { key: storeKey, limit, leaseMs, id });
    } catch (error) {
      // After a timeout the step may still run: give the id back, or its slot stays taken until
      // the lease expires. Releasing an id that was never granted is harmless.
      if (isStoreUnavailable(error) && error.timedOut) this.#giveBacks.add(storeKey, id);
      throw error;
    }
    const { acquired, live, reclaimed, expiresInMs } = admission;
    if (reclaimed > 0) this.#emit('reclaimed', { key, count: reclaimed });
    if (!acquired) return { expiresInMs };
    if (signal?.aborted) {
      await this.#giveBack(storeKey, id);
      return 'aborted';
    }
    return new HeldLease(this.#owner, { key, storeKey, id, inFlight: live });
  }

  #granted(lease: HeldLease, waitedSeconds: number, scope: DecisionScope): Lease {
    const { key, id, inFlightAtGrant: inFlight } = lease;
    this.#emit('acquired', { key, id, inFlight, waitedSeconds });
    if (decisionChannel.hasSubscribers) {
      publishConcurrencyDecision(key, this.limit, inFlight, scope);
    }
    return lease;
  }

  #timedOut(key: string, waitedSeconds: number, scope: DecisionScope): null {
    this.#emit('timeout', { key, waitedSeconds });
    if (decisionChannel.hasSubscribers) {
      publishConcurrencyDecision(key, this.limit, undefined, scope);
    }
    return null;
  }

  async #release(lease: HeldLease): Promise<void> {
    const { key, storeKey, id } = lease;
    // The oldest waiter of this process asleep on the key takes the slot in the same step.
    const next = this.#waiters.reserve(storeKey);
    const nextId = next === undefined ? undefined : randomUUID();
    const successor =
      next === undefined
        ? undefined
        : { limit: next.successor.limit, leaseMs: next.successor.leaseMs, id: nextId! };
    let release: Release;
    try {
      release = await this.store.run(releaseOperation, { key: storeKey, id, successor });
    } catch (error) {
      // The slot stays taken unless given back: retry in the background until the lease ends
      // (the caller may also call release() again; releasing twice is harmless).
      this.#giveBacks.add(storeKey, id);
      if (next !== undefined) {
        next.handOver(undefined);
        next.wake();
        if (isStoreUnavailable(error) && error.timedOut) this.#giveBacks.add(storeKey, nextId!);
      }
      throw error;
    }
    const { wasLive, live, handedOver, reclaimed } = release;
    if (reclaimed > 0) this.#emit('reclaimed', { key, count: reclaimed });
    if (next !== undefined) {
      next.handOver(handedOver ? next.successor.lease(nextId!, live) : undefined);
    }
    if (!handedOver && wasLive) this.#waiters.wake(storeKey, 1);
    this.#emit('released', {
      key,
      id,
      heldSeconds: (performance.now() - lease.grantedAt) / 1000,
      expired: !wasLive,
      inFlight: handedOver ? live - 1 : live,
    });
  }

  async #extend(lease: HeldLease): Promise<boolean> {
    const { leaseMs } = this.#options;
    const args = { key: lease.storeKey, id: lease.id, leaseMs };
    const renewed = await this.store.run(extendOperation, args);
    // A release that overtook this extension is no loss.
    if (!renewed && !lease.releasing) this.#emit('lost', { key: lease.key, id: lease.id });
    return renewed;
  }

  /** {@link #forget}, and when the store fails, again in the background until the lease ends. */
  async #giveBack(storeKey: string, id: string): Promise<void> {
    try {
      await this.#forget(storeKey, id);
    } catch (error) {
      this.#giveBacks.add(storeKey, id);
      throw error;
    }
  }

  /** Releases an id that was never handed to a caller, silently. */
  async #forget(storeKey: string, id: string): Promise<void> {
    const { wasLive } = await this.store.run(releaseOperation, { key: storeKey, id });
    if (wasLive) this.#waiters.wake(storeKey, 1);
  }

  #emit<E extends keyof ConcurrencyEvents>(event: E, payload: ConcurrencyEvents[E][0]): void {
    const events: EventEmitter = this.events;
    if (events.listenerCount(event) > 0) events.emit(event, payload);
  }
}
