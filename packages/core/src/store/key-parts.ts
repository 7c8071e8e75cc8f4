import { InvalidConfiguration } from '../errors.js';

const SAFE = /^[\w.\-@]*$/;
const UNSAFE = /[^\w.\-@]/g;

/**
 * Prefix of every key a store writes, unless its `prefix` option says otherwise.
 *
 * @example
 * ```ts
 * new MemoryStore().prefix === DEFAULT_PREFIX; // true
 * ```
 */
export const DEFAULT_PREFIX = 'sluice';

/**
 * Escapes an id that comes from a client so it can sit between key separators: it cannot open
 * or close a Redis Cluster hash tag, cannot forge a separator, and two different ids never give
 * the same key part (`p:1` + `2` and `p` + `1:2` stay apart): every other character becomes `%`
 * and its four-digit UTF-16 code, a fixed width, so the escape is one-to-one. Plain ids are
 * returned as they are.
 *
 * @example
 * ```ts
 * keyPart('org-1'); // 'org-1'
 * keyPart('a:{b}'); // 'a%003a%007bb%007d'
 * ```
 */
export function keyPart(id: string | number): string {
  const text = String(id);
  if (SAFE.test(text)) return text;
  return text.replace(UNSAFE, (c) => `%${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * True when `prefix` can lead a key without breaking the hash tag that follows it: a non-empty
 * string without `{` or `}` (`:` is fine).
 *
 * @example
 * ```ts
 * isValidPrefix('app:limits'); // true
 * isValidPrefix('{app}'); // false
 * isValidPrefix(''); // false
 * ```
 */
export function isValidPrefix(prefix: unknown): prefix is string {
  return typeof prefix === 'string' && prefix.length > 0 && !/[{}]/.test(prefix);
}

/**
 * A store's `prefix` option: {@link DEFAULT_PREFIX} when undefined, else a valid prefix; throws
 * {@link InvalidConfiguration} naming `option` otherwise.
 *
 * @example
 * ```ts
 * prefixOption('prefix', undefined); // 'sluice'
 * prefixOption('prefix', 'a{b'); // throws InvalidConfiguration
 * ```
 */
export function prefixOption(option: string, value: unknown): string {
  if (value === undefined) return DEFAULT_PREFIX;
  if (!isValidPrefix(value)) {
    throw new InvalidConfiguration(option, value, 'a non-empty string without `{` or `}`');
  }
  return value;
}

/**
 * An id that names a counter (an organization or project id): a string (non-empty unless
 * `allowEmpty`) or a finite number (0 included). Throws {@link InvalidConfiguration} naming
 * `option` for anything else, so a missing id never silently shares one `"undefined"` counter.
 *
 * @example
 * ```ts
 * keyId('project.organizationId', 0); // 0
 * keyId('project.organizationId', undefined); // throws InvalidConfiguration
 * keyId('project.id', '', true); // ''
 * ```
 */
export function keyId(option: string, value: unknown, allowEmpty = false): string | number {
  if (
    (typeof value === 'string' && (allowEmpty || value.length > 0)) ||
    (typeof value === 'number' && Number.isFinite(value))
  ) {
    return value;
  }
  throw new InvalidConfiguration(
    option,
    value,
    allowEmpty ? 'a string or a finite number' : 'a non-empty string or a finite number',
  );
}

/**
 * A Redis Cluster hash tag for `id`: `{<escaped id>}`, never empty (Redis ignores `{}`, which
 * would scatter the keys of one call over several slots). `%` alone cannot come from
 * {@link keyPart}, so the empty id keeps a tag of its own.
 *
 * @example
 * ```ts
 * hashTag(42); // '{42}'
 * ```
 */
export function hashTag(id: string | number): string {
  const part = keyPart(id);
  return `{${part === '' ? '%' : part}}`;
}

/**
 * The id a {@link keyPart} was made from: each `%` and four hex digits back to its character.
 * For tools that read keys back (the operators' CLI); engines never need it.
 *
 * @example
 * ```ts
 * idOfKeyPart('a%003a%007bb%007d'); // 'a:{b}'
 * idOfKeyPart(keyPart('org-1')); // 'org-1'
 * ```
 */
export function idOfKeyPart(part: string): string {
  return part.replace(/%([0-9a-f]{4})/g, (_, code: string) =>
    String.fromCharCode(Number.parseInt(code, 16)),
  );
}
