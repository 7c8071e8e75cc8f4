/**
 * A slot of a {@link ConcurrencyLimiter}, held until released or until it expires
 * (`leaseSeconds` after the grant or the last successful `extend()`, on the store's clock).
 *
 * @example
 * ```ts
 * const lease = await limiter.acquire('snuba', { waitSeconds: 60 });
 * if (lease === null) return; // no slot within a minute: skip gracefully
 * try {
 *   await query({ signal: lease.signal });
 * } finally {
 *   await lease.release();
 * }
 * ```
 */
export interface Lease {
  /** The limiter key the slot belongs to. */
  readonly key: string;
  /** The lease's id in the store; release and extend act on this id only. */
  readonly id: string;
  /**
   * Aborts when the lease ends: released, found lost by `extend()`, or, inside `run`, when the
   * call's signal aborts. Pass it to the guarded work so it stops when the slot is gone.
   */
  readonly signal: AbortSignal;
  /**
   * Gives the slot back. Idempotent: later calls resolve without a store step. Never frees
   * another holder's slot, even when this lease already expired and its slot went to someone
   * else. Rejects with `StoreUnavailableError` when the store fails; calling again retries.
   */
  release(): Promise<void>;
  /**
   * Renews the lease for another `leaseSeconds` from now. Resolves false when the lease was lost
   * (it expired, was reset, or was released): the holder must then consider its slot gone.
   */
  extend(): Promise<boolean>;
}

/**
 * What a lease asks of the limiter that granted it.
 *
 * @example
 * ```ts
 * const owner: LeaseOwner = { release: (l) => releaseStep(l), extend: (l) => extendStep(l) };
 * ```
 */
export interface LeaseOwner {
  /** Runs the release step and reports it. */
  release(lease: HeldLease): Promise<void>;
  /** Runs the extend step: true when renewed. */
  extend(lease: HeldLease): Promise<boolean>;
}

/**
 * The {@link Lease} the limiter hands out.
 *
 * @example
 * ```ts
 * const lease = new HeldLease(owner, { key: 'snuba', storeKey, id: randomUUID(), inFlight: 1 });
 * ```
 */
export class HeldLease implements Lease {
  readonly key: string;
  readonly id: string;
  /** The lease set's key in the store. */
  readonly storeKey: string;
  /** Live leases of the key right after the grant. */
  readonly inFlightAtGrant: number;
  /** When the lease was granted, on this process's monotonic clock (ms). */
  readonly grantedAt = performance.now();

  readonly #owner: LeaseOwner;
  #releasing: Promise<void> | undefined;
  #lost = false;
  #controller: AbortController | undefined;
  /** Why the lease ended, made on demand (a DOMException costs a stack trace). */
  #endReason: (() => unknown) | undefined;

  constructor(
    owner: LeaseOwner,
    grant: { key: string; storeKey: string; id: string; inFlight: number },
  ) {
    this.#owner = owner;
    this.key = grant.key;
    this.storeKey = grant.storeKey;
    this.id = grant.id;
    this.inFlightAtGrant = grant.inFlight;
  }

  get signal(): AbortSignal {
    // Created on first use: most leases never need one, and acquire is the hot path.
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#endReason !== undefined) this.#controller.abort(this.#endReason());
    }
    return this.#controller.signal;
  }

  /** True once a release succeeded or is under way. */
  get releasing(): boolean {
    return this.#releasing !== undefined;
  }

  release(): Promise<void> {
    if (this.#releasing === undefined) {
      const releasing = this.#owner.release(this).then(
        () => this.end(() => new DOMException('The lease was released.', 'AbortError')),
        (error: unknown) => {
          this.#releasing = undefined;
          throw error;
        },
      );
      this.#releasing = releasing;
    }
    return this.#releasing;
  }

  async extend(): Promise<boolean> {
    if (this.#releasing !== undefined || this.#lost) return false;
    const renewed = await this.#owner.extend(this);
    if (this.#releasing !== undefined) return false;
    if (!renewed) {
      this.#lost = true;
      this.end(
        () => new DOMException('The lease was lost: it expired or was reset.', 'AbortError'),
      );
    }
    return renewed;
  }

  /** Aborts {@link signal} with the reason `reason()` makes, once. */
  end(reason: () => unknown): void {
    if (this.#endReason !== undefined) return;
    this.#endReason = reason;
    this.#controller?.abort(reason());
  }
}
