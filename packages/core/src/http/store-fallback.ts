import type { EventEmitter } from 'node:events';
import { type FallbackMessage, publishFallback } from '../metrics/fallback-channel.js';
import { MemoryStore } from '../store/memory-store.js';
import { probeOperation } from '../store/probe-operation.js';
import type { Store } from '../store/store.js';
import type { SluiceEvents } from './http-events.js';

/**
 * Milliseconds between the end of one probe of a failed store and the start of the next, while
 * decisions are local: one probe at a time, at most ten a second, so a dead store is never hit
 * by a probe per request, and decisions are back on it about this long after it answers.
 *
 * @example
 * ```ts
 * await sleep(FALLBACK_PROBE_INTERVAL_MS + store.timeoutMs); // a probe has seen the store
 * ```
 */
export const FALLBACK_PROBE_INTERVAL_MS = 100;

/**
 * Whether one limiter decides on its store or, since a call to it failed, on an in-process
 * {@link MemoryStore} (`onStoreError: 'local'`), and the way back: while local, one probe at a
 * time goes to the store (through its own deadline and fail-fast), every
 * {@link FALLBACK_PROBE_INTERVAL_MS}, and the first answer ends the fallback. Each transition is
 * said once, on `store_fallback` and the `sluice:fallback` channel, never per request.
 *
 * The limiter's stages that share a store share one of these (and so one local store: a route's
 * local counters are the same whichever stage counts them). Local counts are never written
 * back to the store, and stay in the local store for the next outage within their window.
 *
 * @example
 * ```ts
 * const fallback = new StoreFallback(redisStore, limiter.events);
 * if (fallback.decidesLocally()) return decide(fallback.localStore);
 * return decide(redisStore).catch((error) => {
 *   fallback.failed(error); // store_fallback 'start', once per outage
 *   return decide(fallback.localStore);
 * });
 * ```
 */
export class StoreFallback {
  /** Where decisions are made while the store fails. */
  readonly localStore: MemoryStore;
  readonly #store: Store;
  readonly #events: EventEmitter<SluiceEvents>;
  readonly #probeKey: string;
  /** When the fallback started (ms since the epoch); undefined while on the store. */
  #since: number | undefined;
  #localDecisions = 0;

  constructor(store: Store, events: EventEmitter<SluiceEvents>) {
    this.#store = store;
    this.#events = events;
    this.#probeKey = `${store.prefix}:probe`;
    this.localStore = new MemoryStore({ prefix: store.prefix });
  }

  /** True while decisions are local. */
  get active(): boolean {
    return this.#since !== undefined;
  }

  /** True while decisions are local, counting one local decision. */
  decidesLocally(): boolean {
    if (this.#since === undefined) return false;
    this.#localDecisions++;
    return true;
  }

  /**
   * A store call failed with `error`: decisions are local from now on (the caller decides its
   * request locally, and that counts as one local decision). Only the first failure of an
   * outage starts the fallback and says so; later ones (calls already under way) change nothing.
   */
  failed(error: unknown): void {
    this.#localDecisions++;
    if (this.#since !== undefined) return;
    this.#since = Date.now();
    this.#say({ state: 'start', error });
    this.#scheduleProbe();
  }

  #scheduleProbe(): void {
    // Neither the process nor a limiter the app has let go of is kept alive by a failed store:
    // the timer is unref'd and holds this fallback weakly, so probing ends with it.
    const fallback = new WeakRef(this);
    const probe = setTimeout(() => {
      const alive = fallback.deref();
      if (alive !== undefined) alive.#runProbe();
    }, FALLBACK_PROBE_INTERVAL_MS);
    probe.unref?.();
  }

  #runProbe(): void {
    this.#store.run(probeOperation, { key: this.#probeKey }).then(
      () => this.#recovered(),
      () => this.#scheduleProbe(),
    );
  }

  #recovered(): void {
    const since = this.#since;
    if (since === undefined) return;
    const localDecisions = this.#localDecisions;
    this.#since = undefined;
    this.#localDecisions = 0;
    this.#say({ state: 'stop', durationMs: Date.now() - since, localDecisions });
  }

  #say(message: FallbackMessage): void {
    this.#events.emit('store_fallback', message);
    publishFallback(() => message);
  }
}
