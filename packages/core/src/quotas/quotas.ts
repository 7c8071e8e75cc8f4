import {
  type DecisionScope,
  decisionChannel,
  ENGINE_SCOPE,
  refusal,
} from '../metrics/decision-channel.js';
import type { Store } from '../store/store.js';
import { optionalBoolean } from '../validate.js';
import { applicable, scopeValue } from './applicable-quotas.js';
import { type CounterKey, CounterKeys } from './counter-keys.js';
import { decideOperation } from './counter-operations.js';
import { globalBudgetOf } from './global-budget.js';
import { decideWithGlobal, type GlobalReport } from './global-decision.js';
import type { GlobalContext, GlobalQuota } from './global-spend.js';
import {
  decision,
  fromCache,
  type QuotaCall,
  REJECT_ALL_RETRY_AFTER,
  rejectAllLimit,
} from './quota-answer.js';
import type { Project, QuotaConfig } from './quota-config.js';
import { publishQuotaDecision, type QuotaBinding } from './quota-decision-message.js';
import {
  type QuotaCallOptions,
  type QuotaContext,
  type QuotasOptions,
  resolveCallOptions,
  resolveQuotasOptions,
  validateProject,
} from './quotas-options.js';
import { describeLimit, type ExceededLimit, NotRateLimited, type RateLimit } from './rate-limit.js';
import { refundOperation } from './refund-operation.js';
import type { RejectionCache } from './rejection-cache.js';
import { resetCountersOperation } from './reset-operation.js';
import { usageOperation } from './usage-operation.js';

/** One line of {@link Quotas.getUsage}. */
export interface QuotaUsage {
  /** The quota. */
  quota: QuotaConfig;
  /**
   * `used - refunded` in the current window; null for a quota that is not counted (limit 0).
   * A global quota's: its shared counter less what this process holds (`held`).
   */
  used: number | null;
  /** A global quota only: units this process holds unspent in its slice of the window. */
  held?: number;
}

/**
 * Options of {@link Quotas.reset}.
 *
 * @example
 * ```ts
 * await quotas.reset(project, { global: true });
 * ```
 */
export interface QuotaResetOptions extends Pick<QuotaCallOptions, 'key' | 'timestamp'> {
  /** Clear the global quotas that apply to the project instead of its own. @default false */
  global?: boolean;
}

/** One line of {@link Quotas.reset}: a quota whose current window was cleared. */
export interface QuotaReset {
  /** The quota. */
  quota: QuotaConfig;
  /** `used - refunded` its current window held before the reset. */
  removed: number;
}

/** {@link Quotas.isRateLimited} in a caller's {@link DecisionScope}; set by the class below. */
let scopedIsRateLimited: (
  quotas: Quotas,
  project: Project,
  opts: QuotaCallOptions,
  scope: DecisionScope,
) => Promise<RateLimit>;

/**
 * `quotas.isRateLimited(project, opts)` with its `sluice:decision` message in `scope`: how the
 * HTTP layer says that a stage decides in shadow. Internal: not exported from the package.
 *
 * @example
 * ```ts
 * const result = await isRateLimitedIn(quotas, project, { category: 'error' }, { shadow: true, local: false });
 * ```
 */
export function isRateLimitedIn(
  quotas: Quotas,
  project: Project,
  opts: QuotaCallOptions,
  scope: DecisionScope,
): Promise<RateLimit> {
  return scopedIsRateLimited(quotas, project, opts, scope);
}

/**
 * Fixed-window project and organization quotas, Sentry's model: every request is checked
 * against all the quotas that apply to it in one atomic store step, all-or-nothing. Each call
 * of {@link Quotas.isRateLimited} publishes one message on `sluice:decision` when that channel
 * has a subscriber (see `docs/metrics.md`).
 *
 * @example
 * ```ts
 * const quotas = new Quotas({ store: new MemoryStore(), getQuotas: (project) => [
 *   projectQuota(project, { limit: 100, windowSeconds: 60 }),
 *   organizationQuota(project, { limit: 1000, windowSeconds: 60 }),
 * ] });
 * const result = await quotas.isRateLimited({ id: 42, organizationId: 7 }, { category: 'error' });
 * if (result.isLimited) console.log(result.reasonCode, result.retryAfter);
 * ```
 */
export class Quotas {
  /** Where counters live. */
  readonly store: Store;
  /** Seconds a counter outlives its window. */
  readonly graceSeconds: number;
  readonly #getQuotas: QuotasOptions['getQuotas'];
  readonly #keys: CounterKeys;
  readonly #rejections: RejectionCache | undefined;
  /** The slices of global quotas this process holds on this store. */
  readonly #global: GlobalContext;

  static {
    scopedIsRateLimited = (quotas, project, opts, scope) =>
      quotas.#isRateLimited(project, opts, scope);
  }

  constructor(options: QuotasOptions) {
    const resolved = resolveQuotasOptions(options);
    this.store = resolved.store;
    this.#keys = new CounterKeys(resolved.store.prefix);
    this.#getQuotas = resolved.getQuotas;
    this.graceSeconds = resolved.graceSeconds;
    this.#rejections = resolved.rejectionCache;
    this.#global = {
      store: resolved.store,
      budget: globalBudgetOf(resolved.store),
      graceSeconds: resolved.graceSeconds,
    };
  }

  /**
   * Checks the request against every quota that applies and, unless one is exceeded, counts
   * `quantity` against all of them. A refusal counts nothing.
   */
  isRateLimited(project: Project, opts: QuotaCallOptions = NO_OPTIONS): Promise<RateLimit> {
    return this.#isRateLimited(project, opts, ENGINE_SCOPE);
  }

  #isRateLimited(
    project: Project,
    opts: QuotaCallOptions,
    scope: DecisionScope,
  ): Promise<RateLimit> {
    // No async/await: with a synchronous getQuotas and the memory store, the answer is ready
    // when this returns (one resolved promise).
    try {
      const { quantity, timestampMs } = resolveCallOptions(opts);
      validateProject(project);
      const quotas = this.#getQuotas(project, context(opts));
      if (quotas instanceof Promise) {
        return quotas.then((q) => this.#decide(project, opts, quantity, timestampMs, q, scope));
      }
      return this.#decide(project, opts, quantity, timestampMs, quotas, scope);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #decide(
    project: Project,
    opts: QuotaCallOptions,
    quantity: number,
    timestampMs: number | undefined,
    configs: QuotaConfig[],
    scope: DecisionScope,
  ): Promise<RateLimit> {
    let quotas = applicable(project, opts, configs, true);
    const { category } = opts;
    // No array per decision for the common case of no reject-all quota.
    let shadowRejectAll: ExceededLimit[] | undefined;
    let shadowRejectAllQuota: QuotaConfig | undefined;
    if (quotas.some((q) => q.limit === 0)) {
      const rejectAll = quotas.filter((q) => q.limit === 0 && q.shadow !== true);
      if (rejectAll.length > 0) {
        if (decisionChannel.hasSubscribers) {
          const bound = {
            outcome: refusal(scope.shadow),
            quota: rejectAll[0],
            remaining: 0,
            fromCache: false,
          };
          publishQuotaDecision(bound, project, category, scope);
        }
        return Promise.resolve(rejectAllLimit(rejectAll));
      }
      // A reject-all quota in shadow is reported, never counted (it has no window to count in).
      shadowRejectAllQuota = quotas.find((q) => q.limit === 0);
      shadowRejectAll = quotas
        .filter((q) => q.limit === 0)
        .map((q) => describeLimit(q, REJECT_ALL_RETRY_AFTER));
      quotas = quotas.filter((q) => q.limit !== 0);
    }
    if (quotas.length === 0) {
      if (decisionChannel.hasSubscribers) {
        const bound: QuotaBinding =
          shadowRejectAllQuota === undefined
            ? { outcome: 'admitted', quota: undefined, remaining: undefined, fromCache: false }
            : {
                outcome: 'shadow_refused',
                quota: shadowRejectAllQuota,
                remaining: 0,
                fromCache: false,
              };
        publishQuotaDecision(bound, project, category, scope);
      }
      return Promise.resolve(
        new NotRateLimited(shadowRejectAll === undefined ? {} : { shadowLimits: shadowRejectAll }),
      );
    }

    for (let i = 0; i < quotas.length; i++) {
      if (quotas[i]!.scope === 'global') {
        const rejectAll = { shadowRejectAll, shadowRejectAllQuota };
        return this.#decideGlobal(project, opts, quantity, timestampMs, quotas, rejectAll, scope);
      }
    }

    const counters: CounterKey[] = [];
    for (let i = 0; i < quotas.length; i++) {
      counters.push(this.#key(project, quotas[i]!, opts.key));
    }
    const cache = opts.timestamp === undefined ? this.#rejections : undefined;
    const call: QuotaCall = {
      quantity,
      graceSeconds: this.graceSeconds,
      counters,
      quotas,
      project,
      category,
      scope,
      shadowRejectAll,
      shadowRejectAllQuota,
    };
    const answer = this.#decideCounters(call, timestampMs, cache);
    return answer instanceof Promise ? answer : Promise.resolve(answer);
  }

  /**
   * The one atomic step of the call's quotas (a remembered full counter refuses without it),
   * published on `sluice:decision`; at once on a store that answers synchronously (memory), so
   * no promise per store step.
   */
  #decideCounters(
    call: QuotaCall,
    timestampMs: number | undefined,
    cache: RejectionCache | undefined,
  ): RateLimit | Promise<RateLimit> {
    if (cache !== undefined && cache.size > 0) {
      const remembered = fromCache(cache, call.quotas, call.counters);
      if (remembered !== undefined) {
        if (decisionChannel.hasSubscribers) {
          const bound = {
            outcome: refusal(call.scope.shadow),
            quota: remembered.quota,
            remaining: 0,
            fromCache: true,
          };
          publishQuotaDecision(bound, call.project, call.category, call.scope);
        }
        return remembered.limited;
      }
    }
    if (this.store.runNow !== undefined) {
      return decision(call, this.store.runNow(decideOperation, call, timestampMs), cache);
    }
    return this.store
      .run(decideOperation, call, timestampMs)
      .then((found) => decision(call, found, cache));
  }

  /**
   * A decision with global quotas (see `global-decision.ts`): their slices first, then the
   * other quotas in their one step, which publishes the decision; when the global quotas alone
   * decide (a refusal, or no other quota), the decision is published here.
   */
  #decideGlobal(
    project: Project,
    opts: QuotaCallOptions,
    quantity: number,
    timestampMs: number | undefined,
    quotas: QuotaConfig[],
    rejectAll: Pick<QuotaCall, 'shadowRejectAll' | 'shadowRejectAllQuota'>,
    scope: DecisionScope,
  ): Promise<RateLimit> {
    const { globals, others } = this.#splitGlobal(quotas);
    const { category } = opts;
    const call: QuotaCall = {
      quantity,
      graceSeconds: this.graceSeconds,
      counters: this.#counters(project, others, opts.key),
      quotas: others,
      project,
      category,
      scope,
      ...rejectAll,
    };
    const cache = opts.timestamp === undefined ? this.#rejections : undefined;
    const decideOthers =
      others.length === 0 ? undefined : () => this.#decideCounters(call, timestampMs, cache);
    const report: GlobalReport | undefined = decisionChannel.hasSubscribers
      ? (answer, quota, remaining) => {
          const { shadowRejectAllQuota } = rejectAll;
          const bound: QuotaBinding = answer.isLimited
            ? { outcome: refusal(scope.shadow), quota, remaining, fromCache: false }
            : shadowRejectAllQuota !== undefined
              ? {
                  outcome: 'shadow_refused',
                  quota: shadowRejectAllQuota,
                  remaining: undefined,
                  fromCache: false,
                }
              : {
                  outcome: quota?.shadow === true ? 'shadow_refused' : 'admitted',
                  quota,
                  remaining,
                  fromCache: false,
                };
          publishQuotaDecision(bound, project, category, scope);
        }
      : undefined;
    const { shadowRejectAll } = rejectAll;
    return decideWithGlobal(
      this.#global,
      { globals, quantity, timestampMs, shadowRejectAll, report },
      decideOthers,
    );
  }

  /**
   * The global quotas of a decision, one per counter (of two on one counter, the one with the
   * smaller limit, as Relay), and the others.
   */
  #splitGlobal(quotas: QuotaConfig[]): { globals: GlobalQuota[]; others: QuotaConfig[] } {
    const globals: GlobalQuota[] = [];
    const others: QuotaConfig[] = [];
    for (const quota of quotas) {
      if (quota.scope !== 'global') {
        others.push(quota);
        continue;
      }
      const counter = this.#global.budget.counter(quota);
      const same = globals.findIndex((g) => g.counter === counter);
      if (same < 0) globals.push({ quota, counter });
      else if (quota.limit !== null && (globals[same]!.quota.limit ?? Infinity) > quota.limit) {
        globals[same] = { quota, counter };
      }
    }
    return { globals, others };
  }

  /** Gives `quantity` back to every counted quota that applies to the category. */
  async refund(project: Project, opts: QuotaCallOptions = {}): Promise<void> {
    const { quantity, timestampMs } = resolveCallOptions(opts);
    validateProject(project);
    const applicable = (await this.#applicable(project, opts, true)).filter((q) => q.limit !== 0);
    if (applicable.length === 0 || quantity === 0) return;
    const { globals, others: quotas } = this.#splitGlobal(applicable);
    // A global quota's units go back to this process's slice: spent again here, or forgotten
    // with the window, at no store call.
    for (const { counter } of globals) this.#global.budget.refund(counter, quantity, timestampMs);
    if (quotas.length === 0) return;
    const counters = this.#counters(project, quotas, opts.key);
    for (const { base } of counters) this.#rejections?.forget(base);
    const args = { quantity, graceSeconds: this.graceSeconds, counters };
    await this.store.run(refundOperation, args, timestampMs);
  }

  /**
   * `used - refunded` of every quota that applies to the project (or key), in its current
   * window. A global quota's `used` is its shared counter less the units this process holds
   * unspent (`held`): units other processes hold unspent count as used.
   */
  async getUsage(
    project: Project,
    opts: Pick<QuotaCallOptions, 'key' | 'timestamp'> = {},
  ): Promise<QuotaUsage[]> {
    const { timestampMs } = resolveCallOptions(opts);
    validateProject(project);
    const quotas = await this.#applicable(project, opts, false);
    const trackable = quotas.filter((q) => q.limit !== 0 && q.scope !== 'global');
    const globals = quotas.map((q) =>
      q.limit !== 0 && q.scope === 'global' ? this.#globalUsage(q, timestampMs) : undefined,
    );
    let usage: readonly number[] = [];
    if (trackable.length > 0) {
      const counters = this.#counters(project, trackable, opts.key);
      usage = await this.store.run(usageOperation, { counters }, timestampMs);
    }
    let next = 0;
    const result: QuotaUsage[] = [];
    for (let i = 0; i < quotas.length; i++) {
      const quota = quotas[i]!;
      const global = globals[i];
      if (global !== undefined) result.push({ quota, ...(await global) });
      else result.push({ quota, used: quota.limit === 0 ? null : usage[next++]! });
    }
    return result;
  }

  /** A global quota's usage: its counter, one store call of its own (its own hash slot). */
  async #globalUsage(
    quota: QuotaConfig,
    timestampMs: number | undefined,
  ): Promise<{ used: number; held: number }> {
    const counter = this.#global.budget.counter(quota);
    const [count] = await this.store.run(usageOperation, { counters: [counter] }, timestampMs);
    const held = this.#global.budget.heldAt(counter, timestampMs);
    return { used: count! - held, held };
  }

  /**
   * Clears the current window of a project's own counters (its `project`-scoped quotas), or,
   * with `key`, of that key's (`key`-scoped quotas), in one atomic store step, and says what
   * each held. Organization quotas, shared by the organization's projects, are left alone.
   * This engine's remembered refusals of those counters are forgotten at once; other
   * processes' end within their `rejectionCacheMaxSeconds` (1 s by default).
   *
   * With `global: true`, clears instead the counters of the global quotas that apply to the
   * project (of every category) and the slices this process holds of them; what other
   * processes hold they still spend, within their slices (see docs/global-quotas.md).
   *
   * @example
   * ```ts
   * const cleared = await quotas.reset({ id: 42, organizationId: 7 });
   * for (const { quota, removed } of cleared) console.log(quota.id, removed);
   * await quotas.reset({ id: 42, organizationId: 7 }, { global: true }); // the fleet-wide ones
   * ```
   */
  async reset(project: Project, opts: QuotaResetOptions = {}): Promise<QuotaReset[]> {
    const { timestampMs } = resolveCallOptions(opts);
    validateProject(project);
    const global = optionalBoolean('global', opts.global) ?? false;
    const scope = global ? 'global' : opts.key === undefined ? 'project' : 'key';
    const quotas = (await this.#applicable(project, opts, false)).filter(
      (q) => q.limit !== 0 && q.scope === scope,
    );
    if (quotas.length === 0) return [];
    if (global) return Promise.all(quotas.map((quota) => this.#resetGlobal(quota, timestampMs)));
    const counters = this.#counters(project, quotas, opts.key);
    for (const { base } of counters) this.#rejections?.forget(base);
    const args = { graceSeconds: this.graceSeconds, counters };
    const removed = await this.store.run(resetCountersOperation, args, timestampMs);
    return quotas.map((quota, i) => ({ quota, removed: removed[i]! }));
  }

  async #resetGlobal(quota: QuotaConfig, timestampMs: number | undefined): Promise<QuotaReset> {
    const { budget } = this.#global;
    const counter = budget.counter(quota);
    const args = { graceSeconds: this.graceSeconds, counters: [counter] };
    const [count] = await this.store.run(resetCountersOperation, args, timestampMs);
    const held = budget.heldAt(counter, timestampMs);
    budget.forget(counter);
    return { quota, removed: count! - held };
  }

  async #applicable(
    project: Project,
    opts: QuotaCallOptions,
    byCategory: boolean,
  ): Promise<QuotaConfig[]> {
    const configs = await this.#getQuotas(project, context(opts));
    return applicable(project, opts, configs, byCategory);
  }

  /** The counter of each quota for this request, in the order of `quotas`. */
  #counters(project: Project, quotas: QuotaConfig[], key: string | undefined): CounterKey[] {
    return quotas.map((quota) => this.#key(project, quota, key));
  }

  /** The counter key of `quota` for this request (cached: see {@link CounterKeys}). */
  #key(project: Project, quota: QuotaConfig, key: string | undefined): CounterKey {
    const scope = quota.scope ?? 'organization';
    // Global quotas count on counters of their own (GlobalBudget.counter), never here.
    if (scope === 'global') throw new Error(`global quota ${quota.id} has no per-request counter`);
    return this.#keys.of(project.organizationId, scope, scopeValue(quota, project, key)!, quota);
  }
}

/** The options of a call that passes none: shared, never written. */
const NO_OPTIONS: QuotaCallOptions = Object.freeze({});
/** The context of a call without a key: shared, frozen so no getQuotas can write it. */
const NO_CONTEXT: QuotaContext = Object.freeze({});

function context(opts: QuotaCallOptions): QuotaContext {
  return opts.key === undefined ? NO_CONTEXT : { key: opts.key };
}
