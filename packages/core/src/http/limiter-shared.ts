import { EventEmitter } from 'node:events';
import { RejectionCache } from '../quotas/rejection-cache.js';
import { MemoryStore } from '../store/memory-store.js';
import type { Store } from '../store/store.js';
import type { SluiceEvents } from './http-events.js';
import type { LockoutEngines } from './lockout-stage.js';
import { RequestEvents } from './request-events.js';
import type { RequestState } from './request-state.js';
import type { StoreFallback } from './store-fallback.js';

/**
 * What all the stages of one limiter share: the store, the events, each request's state (by
 * the framework's request object, so it dies with it) and the cache of full quota counters.
 *
 * @example
 * ```ts
 * const shared = limiterShared(new MemoryStore(), DEFAULT_REJECTION_CACHE_MAX_SECONDS);
 * shared.events.emitter.on('event_dropped', (e) => log.info(e.reasonCode));
 * ```
 */
export interface LimiterShared {
  readonly store: Store;
  readonly events: RequestEvents;
  /** Each request's state, keyed by the framework's request object (the carrier). */
  readonly states: WeakMap<object, RequestState>;
  /** Full quota counters, shared by every stage; undefined when the cache is off. */
  readonly rejections: RejectionCache | undefined;
  /** The local fallback of each store its stages use with `onStoreError: 'local'`, made on demand. */
  readonly fallbacks: WeakMap<Store, StoreFallback>;
  /** The lockout engines, shared by the stages that share a `lockout` option and store. */
  readonly lockouts: LockoutEngines;
}

/**
 * The shared part of a new limiter on `store`, whose rejection cache remembers a full counter
 * for at most `rejectionCacheMaxSeconds` (0: no cache).
 *
 * @example
 * ```ts
 * limiterShared(store, 0).rejections; // undefined
 * ```
 */
export function limiterShared(store: Store, rejectionCacheMaxSeconds: number): LimiterShared {
  return {
    store,
    events: new RequestEvents(new EventEmitter<SluiceEvents>()),
    states: new WeakMap(),
    lockouts: new WeakMap(),
    rejections:
      rejectionCacheMaxSeconds === 0
        ? undefined
        : new RejectionCache({
            maxSeconds: rejectionCacheMaxSeconds,
            // A remembered refusal ages on the clock that decided it: an injected memory clock
            // moved an hour ahead must not still find the counter full.
            ...(store instanceof MemoryStore ? { now: store.clock } : {}),
          }),
    fallbacks: new WeakMap(),
  };
}
