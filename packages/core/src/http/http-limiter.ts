import { EventEmitter } from 'node:events';
import { ConcurrencyLimiter } from '../concurrency/concurrency-limiter.js';
import { HeldLease, type Lease } from '../concurrency/lease.js';
import {
  InvalidConfiguration,
  isInvalidConfiguration,
  isStoreUnavailable,
  type StoreUnavailableError,
} from '../errors.js';
import type { Project } from '../quotas/quota-config.js';
import { validateQuotaConfig } from '../quotas/quota-config.js';
import { Quotas } from '../quotas/quotas.js';
import type { ExceededLimit } from '../quotas/rate-limit.js';
import { RejectionCache } from '../quotas/rejection-cache.js';
import { toQuota } from '../sliding-window/quota.js';
import { SlidingWindowRateLimiter } from '../sliding-window/sliding-window-rate-limiter.js';
import { MemoryStore } from '../store/memory-store.js';
import { type Store, storeOption } from '../store/store.js';
import {
  headerToken,
  integerAtLeast,
  nonNegativeNumber,
  nonNegativeSeconds,
  oneOf,
  optionsObject,
  positiveSeconds,
} from '../validate.js';
import {
  type Answer,
  errorAnswer,
  exposedHeaders,
  formatRateLimits,
  rateLimitedAnswer,
  reasonCodeOf,
  SLUICE_HEADERS,
} from './answers.js';
import { MAX_CATEGORY_LENGTH, REJECT_ALL_SECONDS } from './header-values.js';
import type { SluiceEvents } from './http-events.js';
import {
  type Identity,
  optionalFunction,
  perRequest,
  type RequestItem,
  type SluiceOptions,
  type StageEngines,
} from './http-options.js';
import { type HttpRequest, type SluiceRequest, toSluiceRequest } from './http-request.js';
import { identifyRequest } from './identification.js';
import { Policies } from './ietf-headers.js';
import {
  CONCURRENCY_OPTION_NAMES,
  SLUICE_OPTION_NAMES,
  WINDOWS_OPTION_NAMES,
} from './option-names.js';
import { type ItemReader, readItems } from './request-items.js';
import { requestKey } from './request-key.js';
import { uniqueLimits } from './unique-limits.js';

/** A dropped item: what was refused and why. */
export interface DroppedItem extends RequestItem {
  reasonCode: string;
  retryAfter: number;
}

/** What the limiter decided for a request that goes on to its handler. */
export interface RequestOutcome {
  readonly project: Project;
  readonly key?: string;
  readonly ip: string;
  /** Items admitted (all of them in shadow mode). */
  readonly accepted: RequestItem[];
  /** Items refused; their categories are listed in `X-Sentry-Rate-Limits`. */
  readonly dropped: DroppedItem[];
  /** True when nothing was enforced for this request. */
  readonly shadow: boolean;
  /** Gives back the concurrency slot; call it when the response ends. Idempotent. */
  release(): Promise<void>;
  /**
   * Gives back the concurrency slot when `response` (Node's `ServerResponse`) closes, which it
   * does when it finishes, fails or the client disconnects; at once if it already has.
   */
  releaseOnClose(response: ClosingResponse): void;
}

/** What {@link RequestOutcome.releaseOnClose} needs of Node's `ServerResponse`. */
export interface ClosingResponse {
  readonly closed: boolean;
  once(event: 'close', listener: () => void): unknown;
}

/**
 * The `route(options)` stage a `quota()` method decorator runs: `limiter` is an adapter's
 * limiter (anything with a `limiter` property) or an {@link HttpLimiter}.
 */
export function decoratorStage(
  limiter: HttpLimiter | { readonly limiter: HttpLimiter },
  options: SluiceOptions,
): HttpLimiter {
  const base = limiter instanceof HttpLimiter ? limiter : limiter?.limiter;
  if (typeof base?.route !== 'function') {
    throw new InvalidConfiguration(
      'limiter',
      limiter,
      "what the adapter's sluice() returned, or an HttpLimiter",
    );
  }
  return base.route(options);
}

/** The decision an adapter carries out. */
export type Decision =
  | {
      readonly action: 'continue';
      readonly headers: Record<string, string>;
      readonly outcome?: RequestOutcome;
    }
  | { readonly action: 'respond'; readonly answer: Answer };

interface RequestState {
  readonly project: Project;
  readonly key: string | undefined;
  readonly ip: string;
  accepted: boolean;
  storeErrorReported: boolean;
  /** Categories already reported in `event_dropped`; made on the first drop. */
  droppedCategories: Set<string> | undefined;
}

/** What a request asks for, read before anything is counted. */
interface Planned {
  readonly ok: true;
  readonly items: RequestItem[];
  /** The window prefix, escaped, when the stage has windows. */
  readonly prefix: string | undefined;
  /** The concurrency key, when the stage has a concurrency limit. */
  readonly slotKey: string | undefined;
}

type Plan = Planned | { readonly ok: false; readonly message: string };

/** The decision for a request sluice leaves alone (an `OPTIONS` preflight). */
const PASS_THROUGH: Decision = Object.freeze({ action: 'continue', headers: Object.freeze({}) });

/** Nothing refused (shared, never written). */
const NO_REFUSALS: readonly ExceededLimit[] = [];
const RESOLVED = Promise.resolve();
const releaseNothing = () => RESOLVED;

/** What all the stages of one limiter share. */
interface Shared {
  readonly store: Store;
  readonly events: EventEmitter<SluiceEvents>;
  readonly states: WeakMap<object, RequestState>;
  /** Full quota counters, shared by every stage; undefined when `rejectionCacheMaxSeconds` is 0. */
  readonly rejections: RejectionCache | undefined;
}

const STORE_UNAVAILABLE = 'store_unavailable';
const CONCURRENCY_LIMIT = 'concurrency_limit';

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
  /** `event_received`, `event_accepted`, `event_dropped` and `store_error`. */
  readonly events: EventEmitter<SluiceEvents>;
  /** The options as given (route stages merge theirs over these). */
  readonly options: Readonly<SluiceOptions>;

  readonly #shared: Shared;
  readonly #engines: StageEngines;
  /** For a route stage: only what its own options name, used when the request passed the limiter. */
  readonly #ownEngines: StageEngines;
  /** Quotas with the limiter's rejection cache, for enforced decisions. */
  readonly #quotas: Quotas;
  /** The same quotas without the cache, for shadow decisions. */
  readonly #shadowQuotas: Quotas;
  readonly #windows: SlidingWindowRateLimiter | undefined;
  readonly #reader: ItemReader;
  readonly #headers: Record<string, string>;

  constructor(options: SluiceOptions, parent?: { shared: Shared; own: SluiceOptions }) {
    if (options === null || typeof options !== 'object') {
      throw new InvalidConfiguration('options', options, 'an options object');
    }
    validateOptions(options);
    const store = options.store ?? parent?.shared.store ?? new MemoryStore();
    this.#shared = parent?.shared ?? {
      store,
      events: new EventEmitter<SluiceEvents>(),
      states: new WeakMap(),
      rejections:
        options.rejectionCacheMaxSeconds === 0
          ? undefined
          : new RejectionCache({
              ...(options.rejectionCacheMaxSeconds === undefined
                ? {}
                : { maxSeconds: options.rejectionCacheMaxSeconds }),
              // A remembered refusal ages on the clock that decided it: an injected memory clock
              // moved an hour ahead must not still find the counter full.
              ...(store instanceof MemoryStore ? { now: store.clock } : {}),
            }),
    };
    this.events = this.#shared.events;
    this.options = options;
    this.#engines = buildEngines(options, store);
    this.#ownEngines =
      parent === undefined ? this.#engines : buildEngines(pickEngines(parent.own), store);
    const graceSeconds = options.graceSeconds;
    const quotasOf = (project: Project, ctx: { request?: unknown }) => {
      const stage = ctx.request as { engines: StageEngines; req: SluiceRequest };
      return stage.engines.quotas!(project, stage.req);
    };
    const grace = graceSeconds === undefined ? {} : { graceSeconds };
    const { rejections } = this.#shared;
    this.#quotas = new Quotas({
      store,
      getQuotas: quotasOf,
      ...grace,
      ...(rejections === undefined ? {} : { rejectionCache: rejections }),
    });
    this.#shadowQuotas = new Quotas({ store, getQuotas: quotasOf, ...grace });
    this.#windows = options.windows === undefined ? undefined : new SlidingWindowRateLimiter(store);
    this.#reader = {
      items: options.items,
      category: perRequest(options.category, undefined),
      quantity: perRequest(options.quantity, 1),
    };
    this.#headers = {
      'Access-Control-Expose-Headers': exposedHeaders(options.rateLimitHeaders === true),
    };
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
   * Decides `request`; `carrier` is the framework's request object, shared by all stages. An
   * `OPTIONS` request (a CORS preflight) passes untouched: no auth, nothing counted, no event.
   * Configuration that arrives per request and is invalid (a `getQuotas` result, say) answers
   * 500 and emits `config_error`; it never rejects.
   */
  async decide(request: HttpRequest, carrier: object): Promise<Decision> {
    // A CORS preflight carries no data: no auth, nothing counted, no event, no header.
    if (request.method === 'OPTIONS') return PASS_THROUGH;
    const req = toSluiceRequest(request);
    if (this.options.skip?.(req)) return { action: 'continue', headers: this.#headers };
    const { states, events } = this.#shared;
    let state = states.get(carrier);
    const engines = state === undefined ? this.#engines : this.#ownEngines;
    let identity: Identity;
    if (state === undefined) {
      const identifying = identifyRequest(req, this.options);
      const identification = identifying instanceof Promise ? await identifying : identifying;
      if (!identification.ok) {
        return {
          action: 'respond',
          answer: errorAnswer(identification.status, identification.message, this.#headers),
        };
      }
      identity = identification.identity;
    } else {
      identity = state;
    }
    try {
      const plan = this.#plan(req, identity.project, engines);
      if (!plan.ok) {
        return { action: 'respond', answer: errorAnswer(400, plan.message, this.#headers) };
      }
      if (state === undefined) {
        const { project, key } = identity;
        state = {
          project,
          key,
          ip: req.ip,
          accepted: false,
          storeErrorReported: false,
          droppedCategories: undefined,
        };
        states.set(carrier, state);
        if (events.listenerCount('event_received') > 0) {
          events.emit('event_received', { ip: state.ip, project });
        }
      }
      return await this.#evaluate(req, state, engines, plan);
    } catch (error) {
      if (!isInvalidConfiguration(error)) throw error;
      events.emit('config_error', { error, option: error.option, project: identity.project });
      return {
        action: 'respond',
        answer: errorAnswer(500, 'rate limiting is misconfigured', this.#headers),
      };
    }
  }

  /**
   * What the request asks for, read before anything is counted: its items, the window prefix
   * and the concurrency key. Values the client controls that cannot be used are a 400.
   */
  #plan(req: SluiceRequest, project: Project, engines: StageEngines): Plan {
    const read = readItems(req, this.#reader);
    if (!read.ok) return read;
    let prefix: string | undefined;
    if (engines.windows !== undefined) {
      prefix = requestKey('windows.prefix()', engines.windows.prefix(req, project));
      if (prefix === undefined) return { ok: false, message: 'rate limit key is too long' };
    }
    let slotKey: string | undefined;
    if (engines.concurrency !== undefined) {
      slotKey = requestKey('concurrency.key()', engines.concurrency.key(req, project));
      if (slotKey === undefined) return { ok: false, message: 'rate limit key is too long' };
    }
    return { ok: true, items: read.items, prefix, slotKey };
  }

  async #evaluate(
    req: SluiceRequest,
    state: RequestState,
    engines: StageEngines,
    plan: Planned,
  ): Promise<Decision> {
    const { project } = state;
    const shadow = this.options.mode === 'shadow' || this.options.enforce?.(project) === false;
    const { items } = plan;
    const refusals: (readonly ExceededLimit[])[] = new Array(items.length).fill(NO_REFUSALS);
    let lease: Lease | null = null;
    const policies = this.options.rateLimitHeaders === true ? new Policies() : undefined;
    let failure: StoreUnavailableError | undefined;
    try {
      if (engines.concurrency !== undefined) {
        const { limiter, limit } = engines.concurrency;
        lease = await limiter.acquire(plan.slotKey!);
        if (lease === null) {
          const refusal: ExceededLimit = {
            retryAfter: 1,
            categories: [],
            scope: 'project',
            reasonCode: CONCURRENCY_LIMIT,
          };
          refusals.fill([refusal]);
        }
        policies?.add({
          name: 'concurrency',
          quota: limit,
          // Held by this process's limiter: it knows how many were in flight at the grant.
          ...(lease instanceof HeldLease
            ? { remaining: Math.max(0, limit - lease.inFlightAtGrant) }
            : lease === null
              ? { remaining: 0 }
              : {}),
          ...(lease === null ? { resetSeconds: 1 } : {}),
          refused: lease === null,
        });
      }
      for (
        let i = 0;
        i < items.length && (engines.concurrency === undefined || lease !== null);
        i++
      ) {
        refusals[i] = await this.#decideItem(
          req,
          state,
          engines,
          plan,
          items[i]!,
          shadow,
          policies,
        );
      }
    } catch (error) {
      if (!isStoreUnavailable(error)) {
        await lease?.release();
        throw error;
      }
      failure = error;
    }
    const held = lease;
    const release = held === null ? releaseNothing : () => held.release().catch(() => undefined);
    const headers =
      policies === undefined || policies.empty
        ? this.#headers
        : Object.assign(policies.headers(), this.#headers);

    if (failure !== undefined) {
      const denied = this.#reportStoreError(state, failure, shadow);
      if (denied !== undefined) {
        await release();
        return { action: 'respond', answer: denied };
      }
    }
    let accepted = items;
    const dropped: DroppedItem[] = [];
    let refused: readonly ExceededLimit[] = NO_REFUSALS;
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      const list = refusals[i]!;
      if (list.length === 0) {
        if (accepted !== items) accepted.push(item);
        continue;
      }
      if (accepted === items) accepted = items.slice(0, i);
      let worst = list[0]!;
      for (const r of list) if (r.retryAfter > worst.retryAfter) worst = r;
      const { retryAfter } = worst;
      const reasonCode = reasonCodeOf(worst);
      dropped.push(
        item.category === undefined
          ? { quantity: item.quantity, reasonCode, retryAfter }
          : { category: item.category, quantity: item.quantity, reasonCode, retryAfter },
      );
      refused = refused.length === 0 ? list : refused.concat(list);
    }
    for (const item of dropped) this.#emitDropped(req, state, item, shadow);
    if (!shadow && accepted.length === 0 && dropped.length > 0) {
      await release();
      return { action: 'respond', answer: rateLimitedAnswer(uniqueLimits(refused), headers) };
    }
    if (!state.accepted) {
      state.accepted = true;
      const { events } = this.#shared;
      if (events.listenerCount('event_accepted') > 0) {
        events.emit('event_accepted', withData({ ip: state.ip, project }, req));
      }
    }
    const outcome: { -readonly [K in keyof RequestOutcome]: RequestOutcome[K] } = {
      project,
      ip: state.ip,
      accepted: shadow ? items : accepted,
      dropped: shadow ? [] : dropped,
      shadow,
      release,
      releaseOnClose: (response) => {
        if (held === null) return;
        if (response.closed) void release();
        else response.once('close', () => void release());
      },
    };
    if (state.key !== undefined) outcome.key = state.key;
    if (shadow || dropped.length === 0) return { action: 'continue', headers, outcome };
    const limits = formatRateLimits(uniqueLimits(refused));
    return {
      action: 'continue',
      headers: Object.assign({ 'X-Sentry-Rate-Limits': limits } as Record<string, string>, headers),
      outcome,
    };
  }

  async #decideItem(
    req: SluiceRequest,
    state: RequestState,
    engines: StageEngines,
    plan: Planned,
    item: RequestItem,
    shadow: boolean,
    policies: Policies | undefined,
  ): Promise<readonly ExceededLimit[]> {
    const { project, key } = state;
    // Shadow decisions never use (nor fill) the rejection cache.
    const quotas = shadow ? this.#shadowQuotas : this.#quotas;
    const quotaCall = {
      key,
      category: item.category,
      quantity: item.quantity,
      request: { engines, req },
    };
    if (engines.quotas !== undefined) {
      const result = await quotas!.isRateLimited(project, quotaCall);
      if (policies !== undefined) {
        for (const quota of result.quotas ?? []) {
          policies.add({
            name: quota.id,
            quota: quota.limit,
            windowSeconds: quota.windowSeconds,
            remaining: quota.remaining,
            resetSeconds: quota.resetAfter,
            refused:
              result.isLimited &&
              (item.quantity > 0 ? quota.remaining < item.quantity : quota.remaining === 0),
          });
        }
      }
      if (result.isLimited) {
        return result.limits ?? NO_REFUSALS;
      }
    }
    const windows = engines.windows;
    if (windows !== undefined && item.quantity > 0) {
      const [grant] = await this.#windows!.checkAndUseQuotas([
        { prefix: plan.prefix!, requested: item.quantity, quotas: windows.quotas },
      ]);
      const refused = grant !== undefined && grant.granted < item.quantity;
      if (policies !== undefined) {
        for (const quota of windows.quotas) {
          const reached = refused && grant.reachedQuotas.includes(quota);
          policies.add({
            name: `window_${quota.windowSeconds}s`,
            quota: quota.limit,
            windowSeconds: quota.windowSeconds,
            ...(reached ? { remaining: 0, resetSeconds: grant.retryAfter ?? 1 } : {}),
            refused: reached,
          });
        }
      }
      if (refused) {
        if (engines.quotas !== undefined) await quotas!.refund(project, quotaCall);
        const refusal: ExceededLimit = {
          // A limit-0 window never lets the category in: Relay's 60 s for reject-all.
          retryAfter: Number.isFinite(grant.retryAfter)
            ? (grant.retryAfter ?? 1)
            : REJECT_ALL_SECONDS,
          categories: item.category === undefined ? [] : [item.category],
          scope: 'project',
          reasonCode: windows.reasonCode ?? 'sliding_window',
        };
        return [refusal];
      }
    }
    return NO_REFUSALS;
  }

  #emitDropped(req: SluiceRequest, state: RequestState, item: DroppedItem, shadow: boolean): void {
    if (this.#shared.events.listenerCount('event_dropped') === 0) return;
    const category = item.category ?? '';
    state.droppedCategories ??= new Set();
    if (state.droppedCategories.has(category)) return;
    state.droppedCategories.add(category);
    this.#shared.events.emit(
      'event_dropped',
      withData(
        {
          ip: state.ip,
          project: state.project,
          reasonCode: item.reasonCode,
          retryAfter: item.retryAfter,
          ...(item.category === undefined ? {} : { category: item.category }),
          shadow,
        },
        req,
      ),
    );
  }

  /** Reports a store failure once per request; returns the 503 when the policy denies. */
  #reportStoreError(
    state: RequestState,
    error: StoreUnavailableError,
    shadow: boolean,
  ): Answer | undefined {
    const policy = this.options.onStoreError ?? 'allow';
    if (!state.storeErrorReported) {
      state.storeErrorReported = true;
      this.#shared.events.emit('store_error', { error, policy, project: state.project });
    }
    if (policy === 'allow' || shadow) return undefined;
    this.#emitDropped(
      { method: '', path: '', headers: {}, query: {}, ip: state.ip },
      state,
      { quantity: 0, reasonCode: STORE_UNAVAILABLE, retryAfter: 1 },
      false,
    );
    const answer = errorAnswer(503, 'rate limiting is unavailable', this.#headers);
    return {
      ...answer,
      headers: {
        ...answer.headers,
        [SLUICE_HEADERS.reason]: STORE_UNAVAILABLE,
        [SLUICE_HEADERS.retryAfter]: '1',
      },
    };
  }
}

function withData<T extends object>(event: T, req: SluiceRequest): T & { data?: unknown } {
  if (req.body !== undefined) (event as { data?: unknown }).data = req.body;
  return event;
}

function pickEngines(options: SluiceOptions): SluiceOptions {
  const own: SluiceOptions = {};
  if (options.quotas !== undefined) own.quotas = options.quotas;
  if (options.windows !== undefined) own.windows = options.windows;
  if (options.concurrency !== undefined) own.concurrency = options.concurrency;
  return own;
}

function buildEngines(options: SluiceOptions, store: Store): StageEngines {
  const engines: { -readonly [K in keyof StageEngines]: StageEngines[K] } = {};
  const { quotas, windows, concurrency } = options;
  if (Array.isArray(quotas)) engines.quotas = () => quotas;
  else if (typeof quotas === 'function') engines.quotas = quotas;
  if (windows !== undefined) {
    engines.windows = {
      ...windows,
      quotas: windows.quotas.map((quota, i) => toQuota(quota, `windows.quotas[${i}]`)),
    };
  }
  if (concurrency !== undefined) {
    const limiter = new ConcurrencyLimiter(store, {
      limit: concurrency.limit,
      ...(concurrency.leaseSeconds === undefined ? {} : { leaseSeconds: concurrency.leaseSeconds }),
      ...(concurrency.waitSeconds === undefined ? {} : { waitSeconds: concurrency.waitSeconds }),
      ...(concurrency.leaseSeconds !== undefined && concurrency.leaseSeconds < 1
        ? { retryIntervalSeconds: concurrency.leaseSeconds / 4 }
        : {}),
    });
    engines.concurrency = {
      limiter,
      limit: concurrency.limit,
      key: concurrency.key ?? ((_req, project) => String(project.id)),
    };
  }
  return engines;
}

/** Parses the options once and throws {@link InvalidConfiguration} naming the first bad one. */
function validateOptions(options: SluiceOptions): void {
  optionsObject('options', options, SLUICE_OPTION_NAMES);
  if (options.store !== undefined) storeOption('store', options.store);
  optionalFunction('resolveProject', options.resolveProject);
  optionalFunction('identify', options.identify);
  if (options.resolveProject === undefined && options.identify === undefined) {
    throw new InvalidConfiguration('resolveProject', undefined, 'a function (or pass identify)');
  }
  const { quotas, windows, concurrency } = options;
  if (Array.isArray(quotas)) {
    for (let i = 0; i < quotas.length; i++) validateQuotaConfig(quotas[i]!, `quotas[${i}]`);
  } else {
    optionalFunction('quotas', quotas);
  }
  if (windows !== undefined) {
    if (windows === null || typeof windows !== 'object')
      throw new InvalidConfiguration('windows', windows, 'an object');
    optionsObject('windows', windows, WINDOWS_OPTION_NAMES);
    if (typeof windows.prefix !== 'function')
      throw new InvalidConfiguration('windows.prefix', windows.prefix, 'a function');
    if (!Array.isArray(windows.quotas) || windows.quotas.length === 0) {
      throw new InvalidConfiguration(
        'windows.quotas',
        windows.quotas,
        'a non-empty array of Quota',
      );
    }
    for (let i = 0; i < windows.quotas.length; i++)
      toQuota(windows.quotas[i], `windows.quotas[${i}]`);
    if (windows.reasonCode !== undefined) headerToken('windows.reasonCode', windows.reasonCode);
  }
  if (concurrency !== undefined) {
    if (concurrency === null || typeof concurrency !== 'object') {
      throw new InvalidConfiguration('concurrency', concurrency, 'an object');
    }
    optionsObject('concurrency', concurrency, CONCURRENCY_OPTION_NAMES);
    integerAtLeast('concurrency.limit', concurrency.limit, 1);
    if (concurrency.leaseSeconds !== undefined)
      positiveSeconds('concurrency.leaseSeconds', concurrency.leaseSeconds);
    if (concurrency.waitSeconds !== undefined)
      nonNegativeNumber('concurrency.waitSeconds', concurrency.waitSeconds);
    optionalFunction('concurrency.key', concurrency.key);
  }
  const { category } = options;
  if (
    typeof category !== 'function' &&
    category !== undefined &&
    (typeof category !== 'string' || category === '' || category.length > MAX_CATEGORY_LENGTH)
  ) {
    throw new InvalidConfiguration(
      'category',
      category,
      `a string of 1 to ${MAX_CATEGORY_LENGTH} characters or a function of the request`,
    );
  }
  if (typeof options.quantity !== 'function' && options.quantity !== undefined) {
    integerAtLeast('quantity', options.quantity, 0);
  }
  optionalFunction('items', options.items);
  optionalFunction('enforce', options.enforce);
  optionalFunction('skip', options.skip);
  if (options.mode !== undefined) oneOf('mode', options.mode, ['enforce', 'shadow']);
  if (options.onStoreError !== undefined)
    oneOf('onStoreError', options.onStoreError, ['allow', 'deny']);
  if (options.rateLimitHeaders !== undefined && typeof options.rateLimitHeaders !== 'boolean') {
    throw new InvalidConfiguration('rateLimitHeaders', options.rateLimitHeaders, 'a boolean');
  }
  if (options.graceSeconds !== undefined) nonNegativeSeconds('graceSeconds', options.graceSeconds);
  if (options.rejectionCacheMaxSeconds !== undefined)
    nonNegativeNumber('rejectionCacheMaxSeconds', options.rejectionCacheMaxSeconds);
}
