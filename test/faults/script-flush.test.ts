import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { type AppProcess, startApp } from '../support/app-process.js';
import { type RedisServer, startRedisServer } from '../support/redis-server.js';
import { steadyLoad } from '../support/steady-load.js';

describe('SCRIPT FLUSH every 500 ms under a steady load', () => {
  let redis: RedisServer | undefined;
  let app: AppProcess | undefined;
  afterEach(async () => {
    await app?.stop();
    await redis?.stop();
  });

  it('fails no decision', async () => {
    redis = await startRedisServer();
    app = await startApp('fault-app.ts', {
      REDIS_URL: redis.url,
      POLICY: 'deny',
      TIMEOUT_MS: '500',
    });
    const admin = new Redis(redis.url);
    const load = steadyLoad({
      url: `${app.url}/work?p=1`,
      ratePerSecond: 300,
      maxRequests: 1500,
      maxSeconds: 4,
    });
    for (let i = 0; i < 6; i++) {
      await sleep(500);
      await admin.script('FLUSH');
    }
    const samples = await load.finished();
    const metrics = await app.json<{
      storeErrors: number;
      accepted: number;
      lastStoreError: string;
    }>('/metrics');
    admin.disconnect();
    expect(metrics).toMatchObject({ storeErrors: 0, lastStoreError: '' });
    expect(samples.length).toBeGreaterThan(800);
    expect(
      samples
        .filter((s) => s.status !== 200)
        .map((s) => `${s.status} after ${Math.round(s.ms)} ms`),
    ).toEqual([]);
    expect(metrics.storeErrors).toBe(0);
    expect(metrics.accepted).toBe(samples.length);
  });
});
