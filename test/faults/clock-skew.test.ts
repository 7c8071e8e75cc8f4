import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { type AppProcess, startApp } from '../support/app-process.js';
import { type RedisServer, startRedisServer } from '../support/redis-server.js';

const LIMIT = 100;
const WINDOW = 86_400;

describe('two app processes whose clocks differ by 30 s share one Redis', () => {
  let redis: RedisServer | undefined;
  const apps: AppProcess[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.stop()));
    await redis?.stop();
  });

  it('admit at most the limit per window, and neither reclaims the other lease early', async () => {
    redis = await startRedisServer();
    const admin = new Redis(redis.url);
    // Stay clear of the window boundary (org 1: windows start at 1 s past midnight UTC).
    const [seconds] = (await admin.time()) as [number, number];
    const toBoundary = WINDOW - ((Number(seconds) - 1) % WINDOW);
    if (toBoundary < 30) await sleep((toBoundary + 2) * 1000);
    admin.disconnect();
    const env = {
      REDIS_URL: redis.url,
      LIMIT: String(LIMIT),
      WINDOW_SECONDS: String(WINDOW),
      TIMEOUT_MS: '1000',
    };
    apps.push(await startApp('fault-app.ts', { ...env, CLOCK_SKEW_MS: '0' }));
    apps.push(await startApp('fault-app.ts', { ...env, CLOCK_SKEW_MS: '30000' }));
    const [a, b] = apps as [AppProcess, AppProcess];

    const statuses = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        fetch(`${(i % 2 ? a : b).url}/work?p=skew`).then((r) => r.status),
      ),
    );
    expect(statuses.filter((s) => s === 200)).toHaveLength(LIMIT);
    expect(statuses.filter((s) => s === 429)).toHaveLength(300 - LIMIT);

    // A holds the one slot for 1.5 s with a 2 s lease; B, 30 s ahead, must not reclaim it.
    const holding = fetch(`${a.url}/slow?ms=1500`);
    await sleep(300);
    const refused = await fetch(`${b.url}/slow?ms=10`);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('x-sentry-rate-limit-reason')).toBe('concurrency_limit');
    expect((await holding).status).toBe(200);
    expect((await fetch(`${b.url}/slow?ms=10`)).status).toBe(200);
  });
});
