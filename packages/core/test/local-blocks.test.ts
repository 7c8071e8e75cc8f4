import { describe, expect, it } from 'vitest';
import { LocalBlocks } from '../src/lockout/local-blocks.js';

// The in-process memory of blocks: answers a block until it ends by its clock, bounded, and a
// flood of new blocks drops the oldest remembered first.

describe('LocalBlocks', () => {
  it('answers a block until it ends by its clock, then forgets it', () => {
    let now = 1_000;
    const blocks = new LocalBlocks(() => now, 10);
    blocks.remember('a', 500);
    expect(blocks.remainingMs('a')).toBe(500);
    now += 499;
    expect(blocks.remainingMs('a')).toBe(1);
    now += 1;
    expect(blocks.remainingMs('a')).toBe(0);
    expect(blocks.size).toBe(0);
    blocks.remember('b', 500);
    blocks.forget('b');
    expect(blocks.remainingMs('b')).toBe(0);
  });

  it('holds at most its bound: past it the oldest remembered goes, ended ones before it too', () => {
    let now = 0;
    const blocks = new LocalBlocks(() => now, 3);
    blocks.remember('a', 10);
    blocks.remember('b', 100);
    blocks.remember('c', 100);
    now = 50; // a has ended
    blocks.remember('d', 100);
    // a (ended) and b (the oldest live one) made room.
    expect(blocks.size).toBe(2);
    expect(['a', 'b', 'c', 'd'].map((k) => blocks.remainingMs(k) > 0)).toEqual([
      false,
      false,
      true,
      true,
    ]);
    for (let i = 0; i < 10_000; i++) blocks.remember(`k${i}`, 1_000);
    expect(blocks.size).toBe(3);
    expect(blocks.remainingMs('k9999')).toBe(1_000);
  });

  it('remembering a key again moves it to the newest', () => {
    const blocks = new LocalBlocks(() => 0, 2);
    blocks.remember('a', 100);
    blocks.remember('b', 100);
    blocks.remember('a', 200);
    blocks.remember('c', 100);
    expect(blocks.remainingMs('a')).toBe(200);
    expect(blocks.remainingMs('b')).toBe(0);
  });
});
