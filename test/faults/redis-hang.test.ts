import { redisHang, serverErrors } from '@sluice/test-support/faults';
import { describe, expect, it } from 'vitest';

const TIMEOUT_MS = 100;

describe('Redis hung (SIGSTOP) under a steady load', () => {
  it.each(['allow', 'deny'] as const)(
    'policy %s: every decision within the deadline, by the policy, none left pending',
    async (policy) => {
      const result = await redisHang({
        policy,
        ratePerSecond: 200,
        hangMs: 2000,
        timeoutMs: TIMEOUT_MS,
      });
      expect(result.during.length).toBeGreaterThan(200);
      expect(result.p99Ms).toBeLessThan(TIMEOUT_MS + 100);
      expect(result.during.every((s) => s.status === (policy === 'allow' ? 200 : 503))).toBe(true);
      expect(result.policyDecisions).toBeGreaterThanOrEqual(result.during.length);
      expect(result.pendingAfterResume).toBe(0);
      if (policy === 'allow') expect(serverErrors(result.samples)).toBe(0);
      // Half a second after the resume, decisions are back on Redis: no store error since.
      expect(result.afterResume.length).toBeGreaterThan(100);
      expect(result.afterResume.every((s) => s.status === 200)).toBe(true);
      expect(result.storeErrorsAfterResume).toBe(0);
      expect(result.appAlive).toBe(true);
    },
  );
});
