const SAFE = /^[\w.\-@]*$/;
const UNSAFE = /[^\w.\-@]/g;

/**
 * Escapes an id that comes from a client so it can sit between key separators: it cannot open
 * or close a Redis Cluster hash tag, cannot forge a separator, and two different ids never give
 * the same key part (`p:1` + `2` and `p` + `1:2` stay apart): every other character becomes `%`
 * and its four-digit UTF-16 code, a fixed width, so the escape is one-to-one. Plain ids are
 * returned as they are.
 */
export function keyPart(id: string | number): string {
  const text = String(id);
  if (SAFE.test(text)) return text;
  return text.replace(UNSAFE, (c) => `%${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** True when `prefix` can lead a key without breaking the hash tag that follows it. */
export function isValidPrefix(prefix: unknown): prefix is string {
  return typeof prefix === 'string' && !/[{}]/.test(prefix);
}

/**
 * A Redis Cluster hash tag for `id`: `{<escaped id>}`, never empty (Redis ignores `{}`, which
 * would scatter the keys of one call over several slots). `%` alone cannot come from
 * {@link keyPart}, so the empty id keeps a tag of its own.
 */
export function hashTag(id: string | number): string {
  const part = keyPart(id);
  return `{${part === '' ? '%' : part}}`;
}
