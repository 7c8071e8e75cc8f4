import type { ConcurrencyLimiter } from '../concurrency/concurrency-limiter.js';
import type { QuotaConfig } from '../quotas/quota-config.js';
import { Quota, toQuota } from '../sliding-window/quota.js';
import type { Store } from '../store/store.js';
import { buildEngines, type EngineOptions, type StageEngines } from './stage-engines.js';
import type { QuotaSource } from './stage-quotas.js';

/**
 * A limit as this process's share of it: `floor(limit * share)`, so N processes with a share of
 * 1/N never admit more together than the limit. A share that leaves less than one unit gives 0
 * (refuse everything). The product is nudged up by one part in 10^12 first, so a share written
 * as a rounded fraction (`1 / 3`, `0.29`) gives what it means (`floor(3 * (1 / 3))` is 1, not 0).
 *
 * @example
 * ```ts
 * scaledLimit(100, 0.25); // 25
 * scaledLimit(10, 1 / 3); // 3
 * scaledLimit(3, 0.2); // 0: every request is refused while local
 * ```
 */
export function scaledLimit(limit: number, share: number): number {
  return Math.floor(limit * share * (1 + 1e-12));
}

/**
 * `quota` with its limit scaled by `share`: `null` (unlimited) and 0 (reject all) stay as they
 * are. A limit that is not a positive integer is left alone, so the engine's own check names it.
 *
 * @example
 * ```ts
 * scaledQuotaConfig({ id: 'p', limit: 100, windowSeconds: 60, reasonCode: 'project_quota' }, 0.5).limit; // 50
 * ```
 */
export function scaledQuotaConfig(quota: QuotaConfig, share: number): QuotaConfig {
  const { limit } = quota;
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit <= 0) return quota;
  return { ...quota, limit: scaledLimit(limit, share) };
}

/** A concurrency "limiter" of limit 0: no request ever gets a slot. */
const NO_SLOTS: Pick<ConcurrencyLimiter, 'acquire'> = { acquire: () => Promise.resolve(null) };

/**
 * The engines of a stage as they decide while the store fails (`onStoreError: 'local'`): the
 * same quotas, windows, concurrency and cardinality limits on `localStore`, each limit scaled by
 * `share` (a lockout applies unscaled)
 * ({@link scaledLimit}), without the rejection cache (the local store answers in-process).
 * A concurrency limit that scales to 0 refuses every request.
 *
 * @example
 * ```ts
 * const local = localEngines(engineOptions(options), { store: fallback.localStore, share: 0.25, graceSeconds: 60 });
 * ```
 */
export function localEngines(
  options: EngineOptions,
  setup: { readonly store: Store; readonly share: number; readonly graceSeconds: number },
): StageEngines {
  const { share } = setup;
  const { quotas, windows, concurrency } = options;
  const scaled: EngineOptions = {};
  if (Array.isArray(quotas)) {
    const list = quotas.map((quota) => scaledQuotaConfig(quota, share));
    scaled.quotas = () => list;
  } else if (typeof quotas === 'function') {
    scaled.quotas = scaledSource(quotas, share);
  }
  if (windows !== undefined) {
    scaled.windows = {
      ...windows,
      quotas: windows.quotas.map((value, i) => {
        const quota = toQuota(value, `windows.quotas[${i}]`);
        const limit = scaledLimit(quota.limit, share);
        return new Quota({
          windowSeconds: quota.windowSeconds,
          granularitySeconds: quota.granularitySeconds,
          limit,
          ...(quota.prefixOverride === undefined ? {} : { prefixOverride: quota.prefixOverride }),
        });
      }),
    };
  }
  const concurrencyLimit =
    concurrency === undefined ? undefined : scaledLimit(concurrency.limit, share);
  if (concurrency !== undefined) {
    scaled.concurrency = { ...concurrency, limit: Math.max(1, concurrencyLimit!) };
  }
  // A lockout is about one client's behaviour, not a shared budget: it applies as it is, on the
  // local store. A cardinality limit is a budget: this process's share of it.
  if (options.lockout !== undefined) scaled.lockout = options.lockout;
  if (options.cardinality !== undefined) {
    const quota = toQuota(options.cardinality.quota, 'cardinality.quota');
    scaled.cardinality = {
      ...options.cardinality,
      quota: new Quota({
        windowSeconds: quota.windowSeconds,
        granularitySeconds: quota.granularitySeconds,
        limit: scaledLimit(quota.limit, share),
      }),
    };
  }
  const engines = buildEngines(scaled, {
    store: setup.store,
    graceSeconds: setup.graceSeconds,
    rejections: undefined,
    local: true,
    lockouts: new WeakMap(),
  });
  if (engines.concurrency === undefined || concurrencyLimit !== 0) return engines;
  return { ...engines, concurrency: { ...engines.concurrency, limiter: NO_SLOTS, limit: 0 } };
}

/** `source` with every quota it gives scaled by `share`. */
function scaledSource(source: QuotaSource, share: number): QuotaSource {
  const scale = (quotas: QuotaConfig[]) =>
    // A result that is not a list reaches the engine as it is, which names what is wrong.
    Array.isArray(quotas) ? quotas.map((quota) => scaledQuotaConfig(quota, share)) : quotas;
  return (project, req) => {
    const quotas = source(project, req);
    return quotas instanceof Promise ? quotas.then(scale) : scale(quotas);
  };
}
