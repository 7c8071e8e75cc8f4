import { InvalidConfiguration } from '../errors.js';

/**
 * Longest window prefix or concurrency key a request may lead to, in characters.
 *
 * @example
 * ```ts
 * requestKey('windows.prefix()', 'k'.repeat(MAX_REQUEST_KEY_LENGTH + 1)); // undefined: a 400
 * ```
 */
export const MAX_REQUEST_KEY_LENGTH = 1024;

/**
 * A window prefix or concurrency key the app built from the request: `{`, `}` and `%` are
 * escaped (one-to-one), so a client cannot open a hash tag; `%` for the empty string; undefined
 * when it is longer than {@link MAX_REQUEST_KEY_LENGTH} (the client's doing: a 400). Not a
 * string: the app's mistake, an {@link InvalidConfiguration} naming `option`.
 *
 * @example
 * ```ts
 * requestKey('windows.prefix()', 'org:{7}'); // 'org:%7b7%7d'
 * requestKey('concurrency.key()', 42); // throws naming `concurrency.key()`
 * ```
 */
export function requestKey(option: string, value: unknown): string | undefined {
  if (typeof value !== 'string') throw new InvalidConfiguration(option, value, 'a string');
  if (value.length > MAX_REQUEST_KEY_LENGTH) return undefined;
  if (value === '') return '%';
  return value.replace(/[{}%]/g, (c) => `%${c.charCodeAt(0).toString(16)}`);
}
