import { clockSkew } from '@sluice/test-support/faults';
import { describe, expect, it } from 'vitest';

describe('two app processes whose clocks differ by 30 s share one Redis', () => {
  it('admit at most the limit per window, and neither reclaims the other lease early', async () => {
    const result = await clockSkew({ requests: 300, limit: 100 });
    expect(result.admitted).toBe(100);
    expect(result.statuses.filter((s) => s === 429)).toHaveLength(200);
    expect(result.whileHeld).toBe(429);
    expect(result.reasonWhileHeld).toBe('concurrency_limit');
    expect(result.afterRelease).toBe(200);
    expect(result.releasedWithinMs).toBeLessThan(1000);
  });
});
