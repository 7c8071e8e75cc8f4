import { ConcurrencyLimiter } from '../concurrency/concurrency-limiter.js';
import type { Project } from '../quotas/quota-config.js';
import { type Quota, toQuota } from '../sliding-window/quota.js';
import { SlidingWindowRateLimiter } from '../sliding-window/sliding-window-rate-limiter.js';
import { WINDOW_REASON } from '../sliding-window/window-decision-message.js';
import { buildStageCardinality, type StageCardinality } from './cardinality-stage.js';
import type { SluiceOptions } from './http-options.js';
import type { SluiceRequest } from './http-request.js';
import { buildStageLockout, type LockoutEngines, type StageLockout } from './lockout-stage.js';
import { type QuotaEngineSetup, StageQuotas } from './stage-quotas.js';

/**
 * Reason code of a sliding-window refusal when `windows.reasonCode` is not given.
 *
 * @example
 * ```ts
 * buildEngines({ windows: { prefix, quotas } }, setup).windows!.reasonCode; // 'sliding_window'
 * ```
 */
export const DEFAULT_WINDOW_REASON_CODE = WINDOW_REASON;

/**
 * The concurrency key when `concurrency.key` is not given: one limit per project.
 *
 * @example
 * ```ts
 * projectConcurrencyKey(req, { id: 42, organizationId: 7 }); // '42'
 * ```
 */
export function projectConcurrencyKey(_req: SluiceRequest, project: Project): string {
  return String(project.id);
}

/**
 * The engines a stage owns, built once from its options: each holds what it decides with, so
 * a decision needs nothing but the request.
 *
 * @example
 * ```ts
 * const engines: StageEngines = buildEngines(options, setup);
 * if (engines.concurrency !== undefined) await engines.concurrency.limiter.acquire(slotKey);
 * ```
 */
export interface StageEngines {
  /** Fixed-window quotas. */
  readonly quotas?: StageQuotas;
  /** Sliding windows. */
  readonly windows?: {
    readonly limiter: SlidingWindowRateLimiter;
    readonly prefix: (req: SluiceRequest, project: Project) => string;
    readonly quotas: Quota[];
    readonly reasonCode: string;
    /** Report a refusal without enforcing it. */
    readonly shadow: boolean;
  };
  /** A concurrency limit. */
  readonly concurrency?: {
    /** What the stage asks of its limiter (the local fallback's may never grant a slot). */
    readonly limiter: Pick<ConcurrencyLimiter, 'acquire'>;
    readonly limit: number;
    readonly key: (req: SluiceRequest, project: Project) => string;
    /** Let a request without a slot go on, reported. */
    readonly shadow: boolean;
  };
  /** Lockout with backoff, checked before every other rule. */
  readonly lockout?: StageLockout;
  /** A cardinality limit, decided once per request. */
  readonly cardinality?: StageCardinality;
}

/**
 * What building a stage's engines needs: the quotas' setup, and the limiter's lockout engines
 * (so stages sharing a `lockout` option share its memory of blocks).
 *
 * @example
 * ```ts
 * const setup: EngineSetup = { store, graceSeconds: 60, rejections: undefined, lockouts: new WeakMap() };
 * ```
 */
export interface EngineSetup extends QuotaEngineSetup {
  readonly lockouts: LockoutEngines;
}

/**
 * The options that name engines.
 *
 * @example
 * ```ts
 * const engines: EngineOptions = { windows: { prefix: (_req, project) => `org:${project.organizationId}`, quotas } };
 * ```
 */
export type EngineOptions = Pick<
  SluiceOptions,
  'quotas' | 'windows' | 'concurrency' | 'lockout' | 'cardinality'
>;

/**
 * The engine options `options` itself names (a route stage's own, without the limiter's it
 * was merged over).
 *
 * @example
 * ```ts
 * engineOptions({ quotas, category: 'error' }); // { quotas }
 * ```
 */
export function engineOptions(options: SluiceOptions): EngineOptions {
  const own: EngineOptions = {};
  if (options.quotas !== undefined) own.quotas = options.quotas;
  if (options.windows !== undefined) own.windows = options.windows;
  if (options.concurrency !== undefined) own.concurrency = options.concurrency;
  if (options.lockout !== undefined) own.lockout = options.lockout;
  if (options.cardinality !== undefined) own.cardinality = options.cardinality;
  return own;
}

/**
 * Builds the engines of validated `options` on `setup.store`; an engine the options do not
 * name is absent.
 *
 * @example
 * ```ts
 * const engines = buildEngines({ quotas: [projectQuota(project, { limit: 10, windowSeconds: 60 })] }, setup);
 * ```
 */
export function buildEngines(options: EngineOptions, setup: EngineSetup): StageEngines {
  const engines: { -readonly [K in keyof StageEngines]: StageEngines[K] } = {};
  const { quotas, windows, concurrency } = options;
  const { store } = setup;
  if (Array.isArray(quotas)) engines.quotas = new StageQuotas(() => quotas, setup);
  else if (typeof quotas === 'function') engines.quotas = new StageQuotas(quotas, setup);
  if (windows !== undefined) {
    engines.windows = {
      limiter: new SlidingWindowRateLimiter(store),
      prefix: windows.prefix,
      quotas: windows.quotas.map((quota, i) => toQuota(quota, `windows.quotas[${i}]`)),
      reasonCode: windows.reasonCode ?? DEFAULT_WINDOW_REASON_CODE,
      shadow: windows.shadow === true,
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
      key: concurrency.key ?? projectConcurrencyKey,
      shadow: concurrency.shadow === true,
    };
  }
  if (options.lockout !== undefined) {
    engines.lockout = buildStageLockout(options.lockout, store, setup.lockouts);
  }
  if (options.cardinality !== undefined) {
    engines.cardinality = buildStageCardinality(options.cardinality, store);
  }
  return engines;
}
