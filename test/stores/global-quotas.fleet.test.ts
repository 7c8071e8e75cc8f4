import { type QuotaConfig, Quotas, SLICE_CAP_DIVISOR } from '@sluice/core';
import { RedisStore } from '@sluice/core/redis';
import { type RedisServer, startRedisServer } from '@sluice/test-support/redis';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Three `Quotas` engines (three processes' worth of slices), each with its own client, on one
 * private redis-server, so `INFO commandstats` counts their calls alone: a paced load of 2,000
 * decisions per second per engine against a global quota of 3,000 per 1 s window (half of what
 * they ask) for 2.5 s. Windows are read from the engines' own answers.
 */

const LIMIT = 3000;
const WINDOW_SECONDS = 1;
const RATE = 2000;
const RUN_MS = 2500;
const ENGINES = 3;

describe('three engines on one Redis', () => {
  let server: RedisServer;
  const clients: Redis[] = [];
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await server?.stop();
  });

  it('never admit beyond the limit, leave at most their slices unspent, and call Redis for a few decisions in a hundred', async () => {
    const admin = new Redis(server.url);
    clients.push(admin);
    const quota: QuotaConfig = {
      id: 'fleet',
      scope: 'global',
      limit: LIMIT,
      windowSeconds: WINDOW_SECONDS,
      reasonCode: 'fleet_quota',
    };
    const engines = Array.from({ length: ENGINES }, () => {
      const client = new Redis(server.url, { maxRetriesPerRequest: 1 });
      clients.push(client);
      return new Quotas({
        store: new RedisStore(client, { prefix: 'fleet', timeoutMs: 2000 }),
        getQuotas: () => [quota],
      });
    });
    const project = { id: 1, organizationId: 1 };
    const admitted = new Map<number, number>();
    const refused = new Map<number, number>();
    const callsBefore = await evalshaCalls(admin);
    const started = Date.now();
    let decisions = 0;
    const pending: Array<Promise<void>> = [];
    const decide = (engine: Quotas) =>
      engine.isRateLimited(project).then((answer) => {
        const end = Date.now() / 1000 + answer.quotas![0]!.resetAfter;
        const windowIndex = Math.round(end / WINDOW_SECONDS) - 1;
        const into = answer.isLimited ? refused : admitted;
        into.set(windowIndex, (into.get(windowIndex) ?? 0) + 1);
      });
    while (Date.now() - started < RUN_MS) {
      const due = Math.floor(((Date.now() - started) / 1000) * RATE);
      for (; decisions < due; decisions++) {
        for (const engine of engines) pending.push(decide(engine));
      }
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await Promise.all(pending);
    const ended = Date.now();
    const calls = (await evalshaCalls(admin)) - callsBefore;
    const total = decisions * ENGINES;

    let filled = 0;
    for (const [windowIndex, count] of admitted) {
      expect(count, `window ${windowIndex}: admitted`).toBeLessThanOrEqual(LIMIT);
      const ends = (windowIndex + 1) * WINDOW_SECONDS * 1000;
      if ((refused.get(windowIndex) ?? 0) > 0 && ends <= ended) {
        filled++;
        // Refused while the others held at most a slice each, which they then spent.
        const cap = LIMIT / SLICE_CAP_DIVISOR;
        expect(count, `window ${windowIndex}: admitted in a filled window`).toBeGreaterThanOrEqual(
          LIMIT - ENGINES * cap,
        );
      }
    }
    expect(filled, 'windows filled and ended within the run').toBeGreaterThanOrEqual(1);
    expect(calls / total, `${calls} EVALSHA for ${total} decisions`).toBeLessThanOrEqual(0.1);
  });
});

async function evalshaCalls(admin: Redis): Promise<number> {
  const stats = await admin.info('commandstats');
  return Number(/cmdstat_evalsha:calls=(\d+)/.exec(stats)?.[1] ?? 0);
}
