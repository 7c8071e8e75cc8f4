import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { type AppProcess, startApp } from '../support/app-process.js';
import { type RedisServer, startRedisServer } from '../support/redis-server.js';
import { latencyQuantile, steadyLoad } from '../support/steady-load.js';

const TIMEOUT_MS = 100;

interface Metrics {
  storeErrors: number;
}

describe('Redis killed (SIGKILL) and restarted on the same port under a steady load', () => {
  let redis: RedisServer | undefined;
  let app: AppProcess | undefined;
  afterEach(async () => {
    await app?.stop();
    await redis?.stop();
  });

  it('answers within the deadline while it is down, and decides on Redis again within 1 s of its return', async () => {
    redis = await startRedisServer();
    const { port } = redis;
    app = await startApp('fault-app.ts', {
      REDIS_URL: redis.url,
      POLICY: 'allow',
      TIMEOUT_MS: String(TIMEOUT_MS),
    });
    const load = steadyLoad({
      url: `${app.url}/work?p=1`,
      ratePerSecond: 200,
      maxRequests: 2000,
      maxSeconds: 10,
    });
    await sleep(800);
    const downAt = performance.now();
    await redis.stop();
    await sleep(1500);
    const upAt = performance.now();
    redis = await startRedisServer([], port);
    const returned = performance.now();
    // Poll the store-error count: it must stop growing within 1 s of the server's return.
    let last = (await app.json<Metrics>('/metrics')).storeErrors;
    let stableSince = performance.now();
    while (performance.now() - returned < 2500) {
      await sleep(50);
      const now = (await app.json<Metrics>('/metrics')).storeErrors;
      if (now !== last) {
        last = now;
        stableSince = performance.now();
      }
    }
    const samples = await load.stop();

    const down = samples.filter((s) => s.sentAt > downAt + 10 && s.sentAt < upAt - TIMEOUT_MS);
    expect(down.length).toBeGreaterThan(150);
    expect(latencyQuantile(down, 0.99)).toBeLessThan(TIMEOUT_MS + 100);
    expect(samples.filter((s) => s.status !== 200)).toEqual([]);
    expect(stableSince - returned).toBeLessThan(1000);
    expect(app.child.exitCode).toBe(null);
    expect(app.stderr()).not.toMatch(/Unhandled|uncaught/i);
  });
});
