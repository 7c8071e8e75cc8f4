import { InvalidConfiguration } from '../errors.js';
import { keyId } from '../store/key-parts.js';
import { type Store, storeOption } from '../store/store.js';
import {
  integerAtLeast,
  nonNegativeSeconds,
  optionsObject,
  timestampSeconds,
} from '../validate.js';
import type { Project, QuotaConfig } from './quota-config.js';
import { RejectionCache } from './rejection-cache.js';

/**
 * Grace, in seconds, a counter outlives its window, for clock drift between app and store.
 *
 * @example
 * ```ts
 * new Quotas({ store, getQuotas, graceSeconds: DEFAULT_GRACE_SECONDS * 2 });
 * ```
 */
export const DEFAULT_GRACE_SECONDS = 60;

/**
 * Context passed to `getQuotas`.
 *
 * @example
 * ```ts
 * const getQuotas = (project: Project, ctx: QuotaContext) => (ctx.key ? keyQuotas : orgQuotas);
 * ```
 */
export interface QuotaContext {
  /** The requesting public key, when known. */
  key?: string;
}

/**
 * Options of `Quotas`.
 *
 * @example
 * ```ts
 * const options: QuotasOptions = { store: new MemoryStore(), getQuotas: () => quotas, graceSeconds: 0 };
 * ```
 */
export interface QuotasOptions {
  /** Where counters live. */
  store: Store;
  /** The quotas that apply to a project (sync or async); called once per decision. */
  getQuotas(project: Project, ctx: QuotaContext): QuotaConfig[] | Promise<QuotaConfig[]>;
  /** Seconds a counter outlives its window: 0 to 1e9. @default 60 */
  graceSeconds?: number;
  /**
   * Remembers full counters in-process, so refusals of a full quota skip the store for at most
   * the cache's `maxSeconds` (calls with an explicit `timestamp` never use it). @default none
   */
  rejectionCache?: RejectionCache;
}

/**
 * Options of one `Quotas.isRateLimited`, `refund` or `getUsage` call.
 *
 * @example
 * ```ts
 * await quotas.isRateLimited(project, { category: 'error', quantity: 3, timestamp: 100 });
 * ```
 */
export interface QuotaCallOptions {
  /** The requesting public key, for key-scoped quotas. */
  key?: string;
  /** Data category of the request; absent: only quotas without categories apply. */
  category?: string;
  /** Units to count. @default 1 (0 = check only) */
  quantity?: number;
  /**
   * Decision time in seconds since the epoch, in [0, 1e11); absent: the store's clock. Any
   * instant is allowed, past or future: it is never compared with the clock.
   */
  timestamp?: number;
}

/** The options `Quotas` knows; any other is an error. */
const KNOWN: readonly (keyof QuotasOptions)[] = [
  'store',
  'getQuotas',
  'graceSeconds',
  'rejectionCache',
];

/**
 * The options of `Quotas`, validated, with their defaults.
 *
 * @example
 * ```ts
 * const { graceSeconds } = resolveQuotasOptions({ store, getQuotas }); // 60
 * ```
 */
export interface ResolvedQuotasOptions {
  readonly store: Store;
  readonly getQuotas: QuotasOptions['getQuotas'];
  readonly graceSeconds: number;
  readonly rejectionCache: RejectionCache | undefined;
}

/**
 * Validates the options of `Quotas` once and resolves their defaults; throws
 * {@link InvalidConfiguration} naming the first bad one.
 *
 * @example
 * ```ts
 * resolveQuotasOptions({ store, getQuotas, graceSeconds: 1e14 }); // throws naming `graceSeconds`
 * ```
 */
export function resolveQuotasOptions(options: QuotasOptions): ResolvedQuotasOptions {
  if (options === undefined) {
    throw new InvalidConfiguration(
      'options',
      options,
      'an options object with `store` and `getQuotas`',
    );
  }
  const o = optionsObject('options', options, KNOWN);
  const store = storeOption('store', o.store);
  if (typeof o.getQuotas !== 'function') {
    throw new InvalidConfiguration('getQuotas', o.getQuotas, 'a function');
  }
  return {
    store,
    getQuotas: o.getQuotas,
    graceSeconds: nonNegativeSeconds('graceSeconds', o.graceSeconds ?? DEFAULT_GRACE_SECONDS),
    rejectionCache: rejectionCacheOption(o.rejectionCache),
  };
}

function rejectionCacheOption(cache: unknown): RejectionCache | undefined {
  if (cache === undefined || cache instanceof RejectionCache) return cache;
  throw new InvalidConfiguration('rejectionCache', cache, 'a RejectionCache');
}

/**
 * What one call asks, validated before any store work: units, and the decision time in ms
 * (undefined: the store's clock).
 *
 * @example
 * ```ts
 * const { quantity, timestampMs } = resolveCallOptions({ quantity: 2, timestamp: 100 }); // 2, 100000
 * ```
 */
export function resolveCallOptions(opts: QuotaCallOptions): {
  quantity: number;
  timestampMs: number | undefined;
} {
  if (opts === null || typeof opts !== 'object') {
    throw new InvalidConfiguration('opts', opts, 'an options object');
  }
  return {
    quantity: integerAtLeast('quantity', opts.quantity ?? 1, 0),
    timestampMs:
      opts.timestamp === undefined
        ? undefined
        : timestampSeconds('timestamp', opts.timestamp) * 1000,
  };
}

/**
 * Throws {@link InvalidConfiguration} unless `project` is an object with a valid
 * `organizationId` (a non-empty string or a finite number, 0 included), so a project without
 * one never shares an `"undefined"` counter with every other.
 *
 * @example
 * ```ts
 * validateProject({ id: 1, organizationId: 0 }); // fine
 * validateProject({ id: 1 } as Project); // throws naming `project.organizationId`
 * ```
 */
export function validateProject(project: Project): void {
  if (project === null || typeof project !== 'object') {
    throw new InvalidConfiguration('project', project, 'a { id, organizationId } object');
  }
  keyId('project.organizationId', project.organizationId);
}
