// A short Redis stall (SIGSTOP ... SIGCONT) under in-flight acquires and releases: every slot
// whose step missed its deadline comes back within about a second of Redis returning, with the
// store's fail-fast probing on and off, instead of staying held for the whole lease.
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConcurrencyLimiter, isStoreUnavailable } from '@sluice/core';
import { RedisStore } from '@sluice/core/redis';
import { sluice } from '@sluice/express';
import { PROJECTS, resolveProject, sentryAuth } from '@sluice/test-support/projects';
import { type RedisServer, startRedisServer } from '@sluice/test-support/redis';
import express from 'express';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';

const LIMIT = 5;
const LEASE_SECONDS = 300;

let redis: RedisServer | undefined;
const clients: Redis[] = [];
afterEach(async () => {
  redis?.process.kill('SIGCONT');
  for (const client of clients.splice(0)) client.disconnect();
  await redis?.stop();
  redis = undefined;
});

function client(server: RedisServer): Redis {
  const made = new Redis(server.url, { maxRetriesPerRequest: 1 });
  clients.push(made);
  return made;
}

/** A limiter on the same keys over a client of its own, patient, that never fails fast. */
function watching(server: RedisServer, prefix: string): ConcurrencyLimiter {
  const store = new RedisStore(client(server), { prefix, timeoutMs: 5000, failFast: false });
  return new ConcurrencyLimiter(store, { limit: LIMIT });
}

/** Polls `inFlight` on its own client every 25 ms until it reads 0; resolves the ms it took. */
async function msUntilAllBack(inFlight: () => Promise<number>, maxMs: number): Promise<number> {
  const started = performance.now();
  let held = -1;
  while (performance.now() - started < maxMs) {
    held = await inFlight();
    if (held === 0) return performance.now() - started;
    await sleep(25);
  }
  throw new Error(`${held} slots still held ${maxMs} ms after Redis resumed`);
}

describe('concurrency slots across a Redis stall', () => {
  it.each([true, false])(
    'failFast %s: 5 acquires timed out in a 0.5 s stall; all 5 slots back within a second',
    async (failFast) => {
      redis = await startRedisServer();
      const prefix = `stall${failFast ? 'f' : 'w'}`;
      const limiter = new ConcurrencyLimiter(
        new RedisStore(client(redis), { prefix, timeoutMs: 200, failFast }),
        { limit: LIMIT, leaseSeconds: LEASE_SECONDS },
      );
      const observer = watching(redis, prefix);
      // Load the scripts first, so the acquires sent during the stall really run when it ends.
      await (await observer.acquire('q'))!.release();

      redis.process.kill('SIGSTOP');
      const stopped = performance.now();
      const outcomes = await Promise.allSettled(
        Array.from({ length: LIMIT }, () => limiter.acquire('q', { waitSeconds: 0 })),
      );
      expect(outcomes.map((o) => o.status)).toEqual(Array(LIMIT).fill('rejected'));
      for (const outcome of outcomes) {
        const reason = (outcome as PromiseRejectedResult).reason;
        expect(isStoreUnavailable(reason) && reason.timedOut).toBe(true);
      }
      await sleep(500 - (performance.now() - stopped));
      redis.process.kill('SIGCONT');

      expect(await msUntilAllBack(() => observer.inFlight('q'), 1200)).toBeLessThan(1200);
      // Every slot is usable again (asked on the observer's store: the limiter's may still be
      // probing Redis, and fail fast until its probe answers).
      const leases = await Promise.all(
        Array.from({ length: LIMIT }, () => observer.acquire('q', { waitSeconds: 0 })),
      );
      expect(leases.every((lease) => lease !== null)).toBe(true);
      await Promise.all(leases.map((lease) => lease!.release()));
    },
  );

  it('Express route: slots of requests in flight across a 3 s stall all come back', async () => {
    redis = await startRedisServer();
    const prefix = 'stallhttp';
    const store = new RedisStore(client(redis), { prefix, timeoutMs: 200 });
    const limiter = sluice({
      store,
      resolveProject,
      concurrency: { limit: LIMIT, leaseSeconds: LEASE_SECONDS },
    });
    const app = express();
    app.use('/api', limiter);
    app.all('/api/:id/work/', async (req, res) => {
      await sleep(Number(req.query.ms));
      res.json({ ok: true });
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/1/work/`;
    const send = (ms: number) =>
      fetch(`${url}?ms=${ms}`, { headers: sentryAuth(PROJECTS.one.key) }).then((r) => r.status);
    const observer = watching(redis, prefix);
    try {
      expect(await send(0)).toBe(200); // loads the scripts
      // Five requests take every slot, then Redis stops while they run: their releases fail.
      const holding = Array.from({ length: LIMIT }, () => send(1000));
      const start = performance.now();
      while ((await observer.inFlight('1')) < LIMIT) {
        expect(performance.now() - start).toBeLessThan(900);
        await sleep(10);
      }
      redis.process.kill('SIGSTOP');
      const stopped = performance.now();
      // Five more arrive during the stall: their acquires miss the deadline (the step may run).
      await sleep(600);
      const during = Array.from({ length: LIMIT }, () => send(10));
      expect(await Promise.all(holding)).toEqual(Array(LIMIT).fill(200));
      // `onStoreError: 'allow'` (the default) admits them without a slot.
      expect(await Promise.all(during)).toEqual(Array(LIMIT).fill(200));
      await sleep(3000 - (performance.now() - stopped));
      redis.process.kill('SIGCONT');

      expect(await msUntilAllBack(() => observer.inFlight('1'), 1500)).toBeLessThan(1500);
      // Every route slot serves again: five concurrent requests, none refused at the limit.
      expect(await Promise.all(Array.from({ length: LIMIT }, () => send(200)))).toEqual(
        Array(LIMIT).fill(200),
      );
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
