import { redisRestart } from '@sluice/test-support/faults';
import { describe, expect, it } from 'vitest';

const TIMEOUT_MS = 100;

describe('Redis killed (SIGKILL) and restarted on the same port under a steady load', () => {
  it('answers within the deadline while it is down, and decides on Redis again within 1 s of its return', async () => {
    const result = await redisRestart({ ratePerSecond: 200, downMs: 1500, timeoutMs: TIMEOUT_MS });
    expect(result.down.length).toBeGreaterThan(150);
    expect(result.p99Ms).toBeLessThan(TIMEOUT_MS + 100);
    expect(result.samples.filter((s) => s.status !== 200)).toEqual([]);
    expect(result.backOnRedisMs).toBeLessThan(1000);
    expect(result.appAlive).toBe(true);
    expect(result.unhandledRejections).toBe(0);
  });
});
