import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { type AppProcess, startApp } from '../support/app-process.js';
import { type RedisServer, startRedisServer } from '../support/redis-server.js';
import { latencyQuantile, steadyLoad } from '../support/steady-load.js';

const TIMEOUT_MS = 100;
const HANG_MS = 2000;

interface Metrics {
  accepted: number;
  dropped: number;
  storeErrors: number;
}

describe('Redis hung (SIGSTOP) under a steady load', () => {
  let redis: RedisServer | undefined;
  let app: AppProcess | undefined;
  afterEach(async () => {
    redis?.process.kill('SIGCONT');
    await app?.stop();
    await redis?.stop();
  });

  it.each(['allow', 'deny'] as const)(
    'policy %s: every decision within the deadline, by the policy, none left pending',
    async (policy) => {
      redis = await startRedisServer();
      app = await startApp('fault-app.ts', {
        REDIS_URL: redis.url,
        POLICY: policy,
        TIMEOUT_MS: String(TIMEOUT_MS),
      });
      const load = steadyLoad({
        url: `${app.url}/work?p=1`,
        ratePerSecond: 200,
        maxRequests: 2000,
        maxSeconds: 10,
      });
      await sleep(800);
      const before = await app.json<Metrics>('/metrics');
      const hangStart = performance.now();
      redis.process.kill('SIGSTOP');
      await sleep(HANG_MS);
      const hangEnd = performance.now();
      redis.process.kill('SIGCONT');
      await sleep(500);
      const resumed = await app.json<Metrics>('/metrics');
      await sleep(500);
      const pendingAfterResume = load.pending(hangEnd);
      await sleep(500);
      const samples = await load.stop();
      const after = await app.json<Metrics>('/metrics');

      // Requests sent while Redis was stopped, with room for one deadline at each edge.
      const during = samples.filter(
        (s) => s.sentAt > hangStart + 10 && s.sentAt < hangEnd - TIMEOUT_MS - 10,
      );
      expect(during.length).toBeGreaterThan(200);
      expect(latencyQuantile(during, 0.99)).toBeLessThan(TIMEOUT_MS + 100);
      expect(during.every((s) => s.status === (policy === 'allow' ? 200 : 503))).toBe(true);
      expect(after.storeErrors - before.storeErrors).toBeGreaterThanOrEqual(during.length);
      expect(pendingAfterResume).toBe(0);
      if (policy === 'allow')
        expect(samples.filter((s) => s.status >= 500 || s.status === 0)).toEqual([]);
      // Half a second after the resume, decisions are back on Redis: no store error since.
      const late = samples.filter((s) => s.sentAt > hangEnd + 500);
      expect(late.length).toBeGreaterThan(100);
      expect(late.every((s) => s.status === 200)).toBe(true);
      expect(after.storeErrors).toBe(resumed.storeErrors);
      expect(app.child.exitCode).toBe(null);
    },
  );
});
