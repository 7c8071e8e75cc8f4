import { hotKey } from '@sluice/test-support/faults';
import { describe, expect, it } from 'vitest';

describe('a hot project far over quota', () => {
  it('costs close to zero Redis commands per rejected request', async () => {
    const result = await hotKey({ ratePerSecond: 500, requests: 1500 });
    expect(result.rejected).toBe(result.limited.length);
    expect(result.rejected).toBeGreaterThan(1000);
    // The rejection cache remembers a full counter for at most rejectionCacheMaxSeconds (1 s),
    // so the flood costs about one script per second (requests in flight when it lapses may
    // each send one), never one per request.
    expect(result.scripts).toBeLessThanOrEqual(2 * Math.ceil(result.floodSeconds) + 2);
    expect(result.commandsPerRejected).toBeLessThan(0.05);
  });
});
