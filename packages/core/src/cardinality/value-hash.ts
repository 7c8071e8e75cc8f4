/**
 * The fixed-size form in which a tracked value is kept: a 53-bit hash, so a value costs the
 * store the same few bytes whatever its length (a Redis sorted set keeps such a member as an
 * integer), and the Lua and memory steps compare numbers, never the caller's strings.
 *
 * Two 32-bit multiply-xorshift lanes run over the UTF-16 code units (with different seeds and
 * multipliers), each finished by an avalanche step; 21 bits of one and 32 of the other make a
 * safe integer. It is fast and well spread, not cryptographic: two different values that hash
 * alike are one value to the limiter (see `docs/cardinality.md`).
 */

/**
 * Bits of a value hash: the most a JavaScript number and a Lua number hold exactly. With `k`
 * values tracked in one window, two collide with a chance of about `k^2 / 2^(VALUE_HASH_BITS + 1)`.
 *
 * @example
 * ```ts
 * const collisionChance = (k: number) => (k * k) / 2 ** (VALUE_HASH_BITS + 1); // 5.6e-5 at 1e6
 * ```
 */
export const VALUE_HASH_BITS = 53;

/** The last mixing step of one lane: every input bit reaches every output bit. */
function avalanche(lane: number): number {
  let h = lane;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The 53-bit hash under which the limiter tracks `value`: an integer in [0, 2^53).
 *
 * @example
 * ```ts
 * valueHash('release-1.2.3') === valueHash('release-1.2.3'); // true: same value, same hash
 * Number.isSafeInteger(valueHash('user:42')); // true
 * ```
 */
export function valueHash(value: string): number {
  let low = 0x2f0b3c1d ^ value.length;
  let high = 0x6a09e667 ^ Math.imul(value.length, 0x9e3779b1);
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    low = Math.imul(low ^ unit, 0x01000193);
    low ^= low >>> 15;
    high = Math.imul(high ^ unit, 0x5bd1e995);
    high ^= high >>> 13;
  }
  const a = avalanche(low ^ Math.imul(high, 0x27d4eb2d));
  const b = avalanche(high + Math.imul(a, 0x165667b1));
  return (b & 0x1fffff) * 2 ** 32 + a;
}
