/**
 * What {@link ConcurrencyLimiter.events} emits, event name -> listener arguments. Each payload
 * names the limiter key, so one listener can feed per-key metrics.
 *
 * @example
 * ```ts
 * limiter.events.on('acquired', ({ key, inFlight }) => gauge('concurrent_queries', inFlight, { key }));
 * limiter.events.on('timeout', ({ key }) => increment('slot.wait_timeout', { key }));
 * limiter.events.on('skipped', ({ key }) => increment('skipped_no_slot', { key }));
 * ```
 */
export interface ConcurrencyEvents {
  /** A lease was granted. */
  acquired: [event: AcquiredEvent];
  /** A lease was released (once per lease; later `release()` calls emit nothing). */
  released: [event: ReleasedEvent];
  /** An `acquire` that found no free slot at first and waited has ended, with or without a slot. */
  waited: [event: WaitedEvent];
  /** An `acquire` resolved `null` because its wait ran out (`waitSeconds: 0` included). */
  timeout: [event: TimeoutEvent];
  /** `run` did not call its function because no slot came (wait ran out or signal aborted). */
  skipped: [event: SkippedEvent];
  /** Expired leases (of crashed or paused holders) were taken back by a store step. */
  reclaimed: [event: ReclaimedEvent];
  /** `run`'s automatic extension found its lease already expired: the holder outlived it. */
  lost: [event: LostEvent];
}

/**
 * Payload of `acquired`.
 *
 * @example
 * ```ts
 * limiter.events.on('acquired', (e: AcquiredEvent) => console.log(e.key, e.inFlight, e.waitedSeconds));
 * ```
 */
export interface AcquiredEvent {
  readonly key: string;
  /** The new lease's id. */
  readonly id: string;
  /** Live leases of the key right after this one was granted, across every process. */
  readonly inFlight: number;
  /** Seconds the call waited for the slot (0 when one was free at once). */
  readonly waitedSeconds: number;
}

/**
 * Payload of `released`.
 *
 * @example
 * ```ts
 * limiter.events.on('released', (e: ReleasedEvent) => { if (e.expired) console.warn('lease outlived', e.key); });
 * ```
 */
export interface ReleasedEvent {
  readonly key: string;
  readonly id: string;
  /** Seconds between the grant and the release, on this process's monotonic clock. */
  readonly heldSeconds: number;
  /** True when the lease had already expired or been reset: its slot was no longer this holder's. */
  readonly expired: boolean;
  /** Live leases of the key right after the release. */
  readonly inFlight: number;
}

/**
 * Payload of `waited`.
 *
 * @example
 * ```ts
 * limiter.events.on('waited', (e: WaitedEvent) => histogram('slot.wait_seconds', e.seconds));
 * ```
 */
export interface WaitedEvent {
  readonly key: string;
  /** Seconds the call waited. */
  readonly seconds: number;
  /** Whether the wait ended with a slot. */
  readonly acquired: boolean;
}

/**
 * Payload of `timeout`.
 *
 * @example
 * ```ts
 * limiter.events.on('timeout', (e: TimeoutEvent) => console.log(e.key, e.waitedSeconds));
 * ```
 */
export interface TimeoutEvent {
  readonly key: string;
  /** Seconds the call waited before giving up. */
  readonly waitedSeconds: number;
}

/**
 * Payload of `skipped`.
 *
 * @example
 * ```ts
 * limiter.events.on('skipped', (e: SkippedEvent) => console.log(e.key, e.reason));
 * ```
 */
export interface SkippedEvent {
  readonly key: string;
  /** `timeout`: the wait ran out; `aborted`: the call's signal aborted before `fn` started. */
  readonly reason: 'timeout' | 'aborted';
}

/**
 * Payload of `reclaimed`.
 *
 * @example
 * ```ts
 * limiter.events.on('reclaimed', (e: ReclaimedEvent) => console.warn(`${e.count} leases of ${e.key} expired`));
 * ```
 */
export interface ReclaimedEvent {
  readonly key: string;
  /** How many expired leases the step removed. */
  readonly count: number;
}

/**
 * Payload of `lost`.
 *
 * @example
 * ```ts
 * limiter.events.on('lost', (e: LostEvent) => console.error('lease lost while running', e.key, e.id));
 * ```
 */
export interface LostEvent {
  readonly key: string;
  readonly id: string;
}
