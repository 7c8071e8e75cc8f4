import type { EventEmitter } from 'node:events';
import type { Lease } from '../concurrency/lease.js';
import {
  InvalidConfiguration,
  isInvalidConfiguration,
  isStoreUnavailable,
  type StoreUnavailableError,
} from '../errors.js';
import { decisionScope } from '../metrics/decision-channel.js';
import type { ExceededLimit } from '../quotas/rate-limit.js';
import { MemoryStore } from '../store/memory-store.js';
import { type Answer, errorAnswer, formatRateLimits } from './answers.js';
import { decideCardinality } from './cardinality-stage.js';
import { acquireSlot, addConcurrencyPolicy, CONCURRENCY_REFUSALS } from './concurrency-slot.js';
import { type DroppedItem, dropRefused, refusedLimits } from './dropped-items.js';
import type { SluiceEvents } from './http-events.js';
import type { Identity, SluiceOptions } from './http-options.js';
import { type HttpRequest, type SluiceRequest, toSluiceRequest } from './http-request.js';
import { identifyRequest } from './identification.js';
import { Policies } from './ietf-headers.js';
import { decideItem, type ItemContext, NO_REFUSALS, watch } from './item-decision.js';
import { configuredAnswer, limitedAnswer } from './limited-answer.js';
import { type LimiterShared, limiterShared } from './limiter-shared.js';
import { LocalFallback } from './local-fallback.js';
import { blockedSeconds, countRefusal, lockoutLimit } from './lockout-stage.js';
import { settleByOutcome } from './outcome-counting.js';
import { requestKey } from './request-key.js';
import { type RequestOutcome, releaseLease, requestOutcome } from './request-outcome.js';
import { type Planned, planRequest } from './request-plan.js';
import { newRequestState, type RequestState } from './request-state.js';
import { type ResolvedStage, resolveStage } from './resolved-stage.js';
import { buildEngines, engineOptions, type StageEngines } from './stage-engines.js';
import { StoreFailurePolicy } from './store-failure.js';
import { refuseWhole } from './whole-refusal.js';

/**
 * The decision an adapter carries out: go on to the handler with `headers` written (and the
 * request's `outcome`), or write `answer` instead. `local` is set when it was made on the
 * in-process store because the store failed (`onStoreError: 'local'`).
 *
 * @example
 * ```ts
 * const decision = await limiter.decide(toHttpRequest(req), req);
 * if (decision.action === 'respond') return send(decision.answer);
 * ```
 */
export type Decision =
  | {
      readonly action: 'continue';
      readonly headers: Record<string, string>;
      readonly outcome?: RequestOutcome;
      readonly local?: true;
    }
  | { readonly action: 'respond'; readonly answer: Answer; readonly local?: true };

/** The decision for a request sluice leaves alone (an `OPTIONS` preflight). */
const PASS_THROUGH: Decision = Object.freeze({ action: 'continue', headers: Object.freeze({}) });

/**
 * The framework-neutral HTTP limiter every adapter wraps: identification, the decision over
 * quotas, sliding windows and a concurrency limit, the answer, and the events. An adapter turns
 * its request into an {@link HttpRequest}, calls {@link HttpLimiter.decide}, and writes what it
 * says.
 *
 * @example
 * ```ts
 * const limiter = new HttpLimiter({ resolveProject, quotas: [...], category: 'error' });
 * const decision = await limiter.decide({ method, url, headers, ip }, rawRequest);
 * ```
 */
export class HttpLimiter {
  /**
   * `event_received`, `event_accepted`, `event_dropped`, `store_error`, `config_error` and
   * (with `onStoreError: 'local'`) `store_fallback`.
   */
  readonly events: EventEmitter<SluiceEvents>;
  /** The options as given (route stages merge theirs over these). */
  readonly options: Readonly<SluiceOptions>;

  readonly #shared: LimiterShared;
  readonly #stage: ResolvedStage;
  readonly #storeFailure: StoreFailurePolicy;
  readonly #engines: StageEngines;
  /** For a route stage: only what its own options name, used when the request passed the limiter. */
  readonly #ownEngines: StageEngines;
  /** With `onStoreError: 'local'`: the local twins of the engines, and when to use them. */
  readonly #fallback: LocalFallback | undefined;

  constructor(options: SluiceOptions, parent?: { shared: LimiterShared; own: SluiceOptions }) {
    const stage = resolveStage(options);
    const store = stage.store ?? parent?.shared.store ?? new MemoryStore();
    const shared = parent?.shared ?? limiterShared(store, stage.rejectionCacheMaxSeconds);
    this.#shared = shared;
    this.#stage = stage;
    this.events = shared.events.emitter;
    this.options = options;
    // 'local' answers a failure on the in-process store, which never fails: the policy is unused.
    const policy = stage.onStoreError === 'deny' ? 'deny' : 'allow';
    this.#storeFailure = new StoreFailurePolicy(policy, shared.events, stage.headers);
    const setup = {
      store,
      graceSeconds: stage.graceSeconds,
      rejections: shared.rejections,
      lockouts: shared.lockouts,
    };
    this.#engines = buildEngines(options, setup);
    const own = parent === undefined ? options : engineOptions(parent.own);
    this.#ownEngines = parent === undefined ? this.#engines : buildEngines(own, setup);
    this.#fallback =
      stage.onStoreError === 'local'
        ? new LocalFallback(shared, store, stage, [
            [this.#engines, options],
            [this.#ownEngines, own],
          ])
        : undefined;
  }

  /**
   * A stage for one route: `options` shallow-merged over this limiter's. When the request
   * already passed this limiter, the stage decides only the quotas, windows and concurrency its
   * own options name, and emits no second `event_received`.
   */
  route(options: SluiceOptions): HttpLimiter {
    if (options === null || typeof options !== 'object') {
      throw new InvalidConfiguration('options', options, 'an options object');
    }
    if (options.rejectionCacheMaxSeconds !== undefined) {
      throw new InvalidConfiguration(
        'rejectionCacheMaxSeconds',
        options.rejectionCacheMaxSeconds,
        "no value on a route: the limiter's cache is shared by its routes (set it on the limiter)",
      );
    }
    return new HttpLimiter({ ...this.options, ...options }, { shared: this.#shared, own: options });
  }

  /**
   * Lifts the lockout of `key` (a project id, unless the `lockout` option has its own `key`):
   * the block ends and its offences and refusals are forgotten, in the store and in this
   * limiter's memory (and its routes'). Another process that saw the block keeps refusing the
   * key until the block ends by its clock (docs/lockout.md). Resolves to true when there was
   * something to lift; throws {@link InvalidConfiguration} when the stage has no lockout.
   *
   * @example
   * ```ts
   * await limiter.resetLockout(42); // project 42 may send again at once
   * ```
   */
  async resetLockout(key: string | number): Promise<boolean> {
    const lockout = this.#engines.lockout;
    if (lockout === undefined) {
      throw new InvalidConfiguration('lockout', undefined, 'a lockout option on this stage');
    }
    const escaped = requestKey('key', typeof key === 'number' ? String(key) : key);
    return escaped === undefined ? false : lockout.engine.reset(escaped);
  }

  /**
   * Decides `request`; `carrier` is the framework's request object, shared by all stages. An
   * `OPTIONS` request (a CORS preflight) passes untouched: no auth, nothing counted, no event.
   * Configuration that arrives per request and is invalid (a `getQuotas` result, say) answers
   * 500 and emits `config_error`; it never rejects.
   */
  async decide(request: HttpRequest, carrier: object): Promise<Decision> {
    // A CORS preflight carries no data: no auth, nothing counted, no event, no header.
    if (request.method === 'OPTIONS') return PASS_THROUGH;
    const stage = this.#stage;
    const req = toSluiceRequest(request);
    if (stage.skip?.(req)) return { action: 'continue', headers: stage.headers };
    const { states, events } = this.#shared;
    let state = states.get(carrier);
    const engines = state === undefined ? this.#engines : this.#ownEngines;
    let identity: Identity;
    if (state === undefined) {
      const identifying = identifyRequest(req, stage.options);
      const identification = identifying instanceof Promise ? await identifying : identifying;
      if (!identification.ok) {
        const { status, message } = identification;
        return { action: 'respond', answer: errorAnswer(status, message, stage.headers) };
      }
      identity = identification.identity;
    } else {
      identity = state;
    }
    try {
      const plan = planRequest(req, identity.project, engines, stage.reader);
      if (!plan.ok) {
        return { action: 'respond', answer: errorAnswer(400, plan.message, stage.headers) };
      }
      if (state === undefined) {
        state = newRequestState(identity, req.ip);
        states.set(carrier, state);
        events.received(state);
      }
      // While the store fails, decisions go to the local store at once, without touching it.
      const fallback = this.#fallback;
      if (fallback?.decidesLocally()) {
        return markedLocal(await this.#evaluate(req, state, fallback.twin(engines), plan, true));
      }
      return await this.#evaluate(req, state, engines, plan, false);
    } catch (error) {
      if (!isInvalidConfiguration(error)) throw error;
      events.configError(error, identity.project);
      const answer = errorAnswer(500, 'rate limiting is misconfigured', stage.headers);
      return { action: 'respond', answer };
    }
  }

  /**
   * Runs the engines on the planned items and turns what they refused into the decision;
   * `local`: they are the local fallback's.
   */
  async #evaluate(
    req: SluiceRequest,
    state: RequestState,
    engines: StageEngines,
    plan: Planned,
    local: boolean,
  ): Promise<Decision> {
    const stage = this.#stage;
    state.local = local;
    const { project, key } = state;
    const shadow = stage.mode === 'shadow' || stage.enforce?.(project) === false;
    const { items } = plan;
    const refusals: (readonly ExceededLimit[])[] = new Array(items.length).fill(NO_REFUSALS);
    const policies = stage.rateLimitHeaders ? new Policies() : undefined;
    let lease: Lease | null = null;
    let failure: StoreUnavailableError | undefined;
    let watching: ItemContext | undefined;
    try {
      const { concurrency, lockout, cardinality } = engines;
      const context: ItemContext = {
        engines,
        req,
        project,
        key,
        prefix: plan.prefix,
        shadow,
        local,
        policies,
        watched: undefined,
      };
      watching = context;
      // A locked-out key is refused before any other rule, and nothing is counted.
      const blockedFor =
        lockout === undefined
          ? 0
          : await blockedSeconds(lockout, plan.lockoutKey!, decisionScope(shadow, local, project));
      let refusedWhole =
        blockedFor > 0 &&
        refuseWhole(
          context,
          items,
          refusals,
          lockoutLimit(lockout!, blockedFor),
          lockout!.shadow || shadow,
        );
      if (concurrency !== undefined && !refusedWhole) {
        const scope = decisionScope(shadow || concurrency.shadow, local, project);
        lease = await acquireSlot(concurrency, plan.slotKey!, scope);
        if (lease === null) {
          // A concurrency limit in shadow lets the request go on without a slot, reported.
          if (concurrency.shadow) {
            for (const item of items) watch(context, item, CONCURRENCY_REFUSALS[0]!);
          } else {
            refusals.fill(CONCURRENCY_REFUSALS);
            refusedWhole = true;
          }
        }
        // A shadow rule is no policy the client faces: the IETF headers leave it out.
        if (policies !== undefined && !concurrency.shadow) {
          addConcurrencyPolicy(policies, concurrency.limit, lease);
        }
      }
      if (!refusedWhole && cardinality !== undefined) {
        const scope = decisionScope(shadow, local, project);
        const limit = await decideCardinality(cardinality, plan.cardinality!, scope);
        refusedWhole =
          limit !== undefined && refuseWhole(context, items, refusals, limit, cardinality.shadow);
      }
      if (!refusedWhole) {
        for (let i = 0; i < items.length; i++) refusals[i] = await decideItem(context, items[i]!);
      }
      if (lockout !== undefined && blockedFor === 0) {
        await countRefusal(lockout, plan.lockoutKey!, refusals, (error) =>
          this.#shared.events.storeError(state, error, this.#storeFailure.policy),
        );
      }
    } catch (error) {
      if (!isStoreUnavailable(error)) {
        await lease?.release();
        throw error;
      }
      failure = error;
    }
    const fallback = this.#fallback;
    if (failure !== undefined && fallback !== undefined && !local) {
      // The store failed this request: it is decided again, all of it, on the local store.
      // A slot taken on the store is given back there (or its lease expires).
      void releaseLease(lease);
      fallback.state.failed(failure);
      this.#shared.events.storeError(state, failure, 'local');
      return markedLocal(await this.#evaluate(req, state, fallback.twin(engines), plan, true));
    }
    const headers =
      policies === undefined || policies.empty
        ? stage.headers
        : Object.assign(policies.headers(), stage.headers);
    const denied =
      failure === undefined ? undefined : this.#storeFailure.decide(state, failure, shadow);
    if (denied !== undefined) {
      await releaseLease(lease);
      return { action: 'respond', answer: denied };
    }
    const dropped: DroppedItem[] = [];
    const accepted = dropRefused(items, refusals, dropped);
    const { events } = this.#shared;
    for (const item of dropped) events.dropped(state, item, shadow, req.body);
    // What shadow rules would have refused: reported, never refused.
    const watched = watching?.watched;
    if (watched !== undefined)
      for (const item of watched) events.dropped(state, item, true, req.body);
    if (!shadow && accepted.length === 0 && dropped.length > 0) {
      await releaseLease(lease);
      const limits = refusedLimits(refusals);
      if (stage.refusal.onLimited === undefined) {
        return { action: 'respond', answer: configuredAnswer(stage.refusal, limits, headers) };
      }
      const report = (error: InvalidConfiguration) => events.configError(error, project);
      const answer = await limitedAnswer(stage.refusal, req, state, limits, headers, report);
      return { action: 'respond', answer };
    }
    events.accepted(state, req.body);
    const outcome = shadow
      ? requestOutcome(state, items, [], true, lease)
      : requestOutcome(
          state,
          accepted,
          dropped,
          false,
          lease,
          settleByOutcome(
            this.#stage.counting,
            engines.quotas,
            req,
            state,
            accepted,
            this.#shared.events,
          ),
        );
    if (shadow || dropped.length === 0) return { action: 'continue', headers, outcome };
    const limits = formatRateLimits(refusedLimits(refusals));
    return {
      action: 'continue',
      headers: Object.assign({ 'X-Sentry-Rate-Limits': limits } as Record<string, string>, headers),
      outcome,
    };
  }
}

/** `decision`, marked as made on the local store. */
function markedLocal(decision: Decision): Decision {
  return { ...decision, local: true };
}
