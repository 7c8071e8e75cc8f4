import { VALUE_HASH_BITS, valueHash } from '@sluice/core';
import { describe, expect, it } from 'vitest';

/**
 * The value hash is part of what Redis holds: a release that hashed differently would take
 * every tracked value for a new one. These vectors pin it; change them only with a note in the
 * changelog that tracked values restart.
 */
describe('valueHash', () => {
  it('is pinned: the same 53-bit integers in every release', () => {
    const pinned = Object.fromEntries(
      ['', 'a', 'b', 'user:42', 'd:custom/duration@millisecond', 'é😀'].map((v) => [
        v,
        valueHash(v),
      ]),
    );
    expect(pinned).toMatchInlineSnapshot(`
      {
        "": 884920029576956,
        "a": 2300376598441357,
        "b": 8516542305070146,
        "d:custom/duration@millisecond": 497712312231538,
        "user:42": 1457877455501152,
        "é😀": 4548022975179366,
      }
    `);
  });

  it('gives safe integers below 2^53, spread over all the bits', () => {
    let highest = 0;
    for (let i = 0; i < 10_000; i++) {
      const hash = valueHash(`value-${i}`);
      expect(Number.isSafeInteger(hash) && hash >= 0 && hash < 2 ** VALUE_HASH_BITS).toBe(true);
      highest = Math.max(highest, hash);
    }
    expect(highest).toBeGreaterThan(2 ** (VALUE_HASH_BITS - 1));
  });

  it('does not collide over 200,000 similar values (expected ~2e-6 chance)', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 100_000; i++) {
      seen.add(valueHash(`d:custom/metric_${i}.duration@millisecond`));
      seen.add(valueHash(String(i)));
    }
    expect(seen.size).toBe(200_000);
  });
});
