import { InvalidConfiguration } from '../errors.js';

/** Every option of `sluice()`, `sluicePlugin` and `route()`: any other name is a mistake. */
export const SLUICE_OPTION_NAMES: ReadonlySet<string> = new Set([
  'store',
  'resolveProject',
  'identify',
  'quotas',
  'windows',
  'concurrency',
  'category',
  'quantity',
  'items',
  'mode',
  'enforce',
  'onStoreError',
  'rateLimitHeaders',
  'skip',
  'graceSeconds',
  'rejectionCacheMaxSeconds',
]);

/** The options of `windows`. */
export const WINDOWS_OPTION_NAMES: ReadonlySet<string> = new Set([
  'prefix',
  'quotas',
  'reasonCode',
]);

/** The options of `concurrency`. */
export const CONCURRENCY_OPTION_NAMES: ReadonlySet<string> = new Set([
  'limit',
  'key',
  'leaseSeconds',
  'waitSeconds',
]);

/**
 * Throws {@link InvalidConfiguration} naming the first option of `options` that is not in
 * `known`: a misspelled `quotas` must never mean "no limits". `path` leads the name
 * (`windows.`).
 *
 * @example
 * ```ts
 * rejectUnknownOptions({ quota: [] }, SLUICE_OPTION_NAMES, ''); // throws: `quota`
 * ```
 */
export function rejectUnknownOptions(
  options: object,
  known: ReadonlySet<string>,
  path: string,
): void {
  for (const name of Object.keys(options)) {
    if (!known.has(name)) {
      throw new InvalidConfiguration(
        `${path}${name}`,
        (options as Record<string, unknown>)[name],
        `one of the options it knows (${[...known].join(', ')})`,
      );
    }
  }
}
