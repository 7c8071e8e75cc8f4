import { describe, expect, it } from 'vitest';
import { retryDelayMs } from '../src/concurrency/retry-delay.js';

// A white-box test of core's own retry schedule (not public API), kept beside core.

describe('retry pauses', () => {
  it('start at an eighth of the interval, double up to it, and are jittered within their upper half', () => {
    const low = () => 0;
    const high = () => 0.999_999;
    const caps = [0, 1, 2, 3, 4, 10].map((n) => retryDelayMs(n, 1000, 0, high));
    expect(caps.map(Math.round)).toEqual([125, 250, 500, 1000, 1000, 1000]);
    expect(retryDelayMs(0, 1000, 0, low)).toBe(62.5);
    expect(retryDelayMs(5, 1000, 0, low)).toBe(500);
  });

  it('end shortly after the earliest lease expires when that comes sooner', () => {
    expect(retryDelayMs(5, 1000, 40, () => 0)).toBe(40);
    expect(retryDelayMs(5, 1000, 40, () => 0.999_999)).toBeLessThan(40 + 25);
  });
});
