import { InvalidConfiguration } from '../errors.js';
import { integerAtLeast, optionsObject } from '../validate.js';
import { prefixOption } from './key-parts.js';
import type { MemoryStoreOptions } from './memory-store.js';

/**
 * Default bound on the number of keys a `MemoryStore` holds.
 *
 * @example
 * ```ts
 * new MemoryStore({ maxKeys: DEFAULT_MAX_KEYS / 10 });
 * ```
 */
export const DEFAULT_MAX_KEYS = 1_000_000;

/** The options a `MemoryStore` knows; any other is an error. */
const KNOWN: readonly (keyof MemoryStoreOptions)[] = ['maxKeys', 'clock', 'prefix'];

/**
 * The options of a `MemoryStore`, validated, with their defaults.
 *
 * @example
 * ```ts
 * const { maxKeys, clock, prefix } = resolveMemoryStoreOptions({ maxKeys: 10 });
 * ```
 */
export interface ResolvedMemoryStoreOptions {
  readonly maxKeys: number;
  readonly clock: () => number;
  readonly prefix: string;
}

/**
 * Validates the options of a `MemoryStore` once and resolves their defaults; throws
 * {@link InvalidConfiguration} naming the first bad one (`null` options included).
 *
 * @example
 * ```ts
 * resolveMemoryStoreOptions({ maxKeys: 0 }); // throws InvalidConfiguration naming `maxKeys`
 * ```
 */
export function resolveMemoryStoreOptions(
  options: MemoryStoreOptions | undefined,
): ResolvedMemoryStoreOptions {
  const o = optionsObject('options', options, KNOWN);
  if (o.clock !== undefined && typeof o.clock !== 'function') {
    throw new InvalidConfiguration('clock', o.clock, 'a function returning milliseconds');
  }
  return {
    maxKeys: integerAtLeast('maxKeys', o.maxKeys ?? DEFAULT_MAX_KEYS, 1),
    clock: o.clock ?? Date.now,
    prefix: prefixOption('prefix', o.prefix),
  };
}
