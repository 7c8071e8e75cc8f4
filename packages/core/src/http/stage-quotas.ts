import { type DecisionScope, ENGINE_SCOPE } from '../metrics/decision-channel.js';
import type { Project, QuotaConfig } from '../quotas/quota-config.js';
import { isRateLimitedIn, Quotas } from '../quotas/quotas.js';
import type { QuotaCallOptions } from '../quotas/quotas-options.js';
import type { RateLimit } from '../quotas/rate-limit.js';
import type { RejectionCache } from '../quotas/rejection-cache.js';
import type { Store } from '../store/store.js';
import type { SluiceRequest } from './http-request.js';

/**
 * The quotas of a stage for one request: the `quotas` option as a function (a list is a
 * function that ignores its arguments).
 *
 * @example
 * ```ts
 * const source: QuotaSource = (project, req) => (req.path.includes('/envelope/') ? envelopeQuotas : storeQuotas);
 * ```
 */
export type QuotaSource = (
  project: Project,
  req: SluiceRequest,
) => QuotaConfig[] | Promise<QuotaConfig[]>;

/**
 * What a stage's quota engines are built on.
 *
 * @example
 * ```ts
 * const setup: QuotaEngineSetup = { store, graceSeconds: DEFAULT_GRACE_SECONDS, rejections: undefined };
 * ```
 */
export interface QuotaEngineSetup {
  readonly store: Store;
  /** Seconds a counter outlives its window. */
  readonly graceSeconds: number;
  /** The limiter's cache of full counters, for enforced decisions; undefined: none. */
  readonly rejections: RejectionCache | undefined;
  /** The engines decide on the local fallback store: their decision messages say `local`. */
  readonly local?: boolean;
}

/**
 * One stage's fixed-window quotas over HTTP: two {@link Quotas} engines on the stage's own
 * quota source, one with the limiter's rejection cache for enforced decisions and one without
 * for shadow decisions (which never use nor fill the cache).
 *
 * The request reaches the source without passing through the engine: `Quotas` calls
 * `getQuotas` once per call, synchronously, before its first `await` (so that a synchronous
 * source and the memory store answer without a promise per step), and this class holds the
 * request for exactly that synchronous span. A `getQuotas` called outside it is a bug in
 * sluice, and throws.
 *
 * @example
 * ```ts
 * const quotas = new StageQuotas((project) => [projectQuota(project, { limit: 100, windowSeconds: 60 })], setup);
 * const result = await quotas.isRateLimited(project, req, { key, category: 'error', quantity: 1 }, false);
 * ```
 */
export class StageQuotas {
  readonly #source: QuotaSource;
  readonly #enforced: Quotas;
  readonly #shadow: Quotas;
  /** The `sluice:decision` scopes of enforced and shadow decisions. */
  readonly #enforcedScope: DecisionScope;
  readonly #shadowScope: DecisionScope;
  /** The request being decided, during the synchronous part of a call only. */
  #request: SluiceRequest | undefined;

  constructor(source: QuotaSource, setup: QuotaEngineSetup) {
    this.#source = source;
    const { store, graceSeconds, rejections } = setup;
    const getQuotas = (project: Project) => this.#quotasOf(project);
    this.#enforced = new Quotas({
      store,
      getQuotas,
      graceSeconds,
      ...(rejections === undefined ? {} : { rejectionCache: rejections }),
    });
    this.#shadow = new Quotas({ store, getQuotas, graceSeconds });
    const local = setup.local === true;
    this.#enforcedScope = local ? Object.freeze({ shadow: false, local }) : ENGINE_SCOPE;
    this.#shadowScope = Object.freeze({ shadow: true, local });
  }

  /**
   * Decides `call` for `req`: {@link Quotas.isRateLimited} on the quotas of this stage, its
   * `sluice:decision` message marked shadow when `shadow` is.
   */
  isRateLimited(
    project: Project,
    req: SluiceRequest,
    call: QuotaCallOptions,
    shadow: boolean,
  ): Promise<RateLimit> {
    this.#request = req;
    try {
      return shadow
        ? isRateLimitedIn(this.#shadow, project, call, this.#shadowScope)
        : isRateLimitedIn(this.#enforced, project, call, this.#enforcedScope);
    } finally {
      this.#request = undefined;
    }
  }

  /** Gives back what `call` counted for `req`: {@link Quotas.refund} on the quotas of this stage. */
  refund(
    project: Project,
    req: SluiceRequest,
    call: QuotaCallOptions,
    shadow: boolean,
  ): Promise<void> {
    this.#request = req;
    try {
      return (shadow ? this.#shadow : this.#enforced).refund(project, call);
    } finally {
      this.#request = undefined;
    }
  }

  #quotasOf(project: Project): QuotaConfig[] | Promise<QuotaConfig[]> {
    const req = this.#request;
    if (req === undefined) throw new Error('sluice: getQuotas was called outside a decision');
    return this.#source(project, req);
  }
}
