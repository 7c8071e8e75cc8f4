import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { type AppProcess, startApp } from '../support/app-process.js';
import { type RedisServer, startRedisServer } from '../support/redis-server.js';
import { steadyLoad } from '../support/steady-load.js';

async function commandCalls(client: Redis): Promise<number> {
  const stats = await client.info('commandstats');
  let total = 0;
  for (const match of stats.matchAll(/cmdstat_(\w+)[^:]*:calls=(\d+)/g)) {
    if (match[1] !== 'info') total += Number(match[2]);
  }
  return total;
}

describe('a hot project far over quota', () => {
  let redis: RedisServer | undefined;
  let app: AppProcess | undefined;
  afterEach(async () => {
    await app?.stop();
    await redis?.stop();
  });

  it('costs close to zero Redis commands per rejected request', async () => {
    redis = await startRedisServer();
    app = await startApp('fault-app.ts', {
      REDIS_URL: redis.url,
      LIMIT: '10',
      WINDOW_SECONDS: '86400',
    });
    const admin = new Redis(redis.url);
    const warm = steadyLoad({
      url: `${app.url}/work?p=hot`,
      ratePerSecond: 100,
      maxRequests: 20,
      maxSeconds: 1,
    });
    await warm.finished();
    const before = await commandCalls(admin);
    const load = steadyLoad({
      url: `${app.url}/work?p=hot`,
      ratePerSecond: 500,
      maxRequests: 1500,
      maxSeconds: 3,
    });
    const samples = await load.finished();
    const commands = (await commandCalls(admin)) - before;
    admin.disconnect();
    const rejected = samples.filter((s) => s.status === 429).length;
    expect(rejected).toBe(samples.length);
    expect(commands / rejected).toBeLessThan(0.01);
  });
});
