// The Redis batcher against a real redis-server: a lone call goes out at once; calls queued
// behind calls in flight go in batches sized to the load, per operation and hash slot; a batch
// stops counting at its deadline; NOSCRIPT is survived, also for batches sent during a stall to
// a Redis that never loaded the script; one batch's failure fails no other batch.
import { defineOperation, positionalOperation, type Reply, type StoreCall } from '@sluice/core';
import { RedisBatcher, type RedisBatcherOptions } from '@sluice/core/redis';
import { type RedisServer, startRedisServer } from '@sluice/test-support/redis';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** Replies its argument (and the number of keys); a Lua error for `boom`, failing its batch. */
const echo = positionalOperation({
  name: 'sluice_test_echo',
  lua: `if argv[1] == 'boom' then error('boom') end
return { argv[1], #keys }`,
  memory: (_state, keys, args): Reply => [String(args[0]), keys.length],
});
/** The same under another name: another operation, so another group. */
const echoToo = defineOperation({ ...echo, name: 'sluice_test_echo_too' });

const call = (arg: string, key = 'k'): StoreCall => ({ keys: [key], args: [arg] });
const OPTIONS: RedisBatcherOptions = {
  timeoutMs: 2000,
  maxBatch: 16,
  failFast: true,
  clustered: false,
};

let server: RedisServer;
let client: Redis;
beforeAll(async () => {
  server = await startRedisServer();
  client = new Redis(server.url, { maxRetriesPerRequest: 1 });
});
afterAll(async () => {
  server.process.kill('SIGCONT');
  client.disconnect();
  await server.stop();
});

/** EVALSHA and EVAL calls Redis has run since the last CONFIG RESETSTAT. */
async function scriptCalls(): Promise<number> {
  const stats = await client.info('commandstats');
  const calls = (name: string) =>
    Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
  return calls('evalsha') + calls('eval');
}

/** Runs `body` between two reads of the script calls; resolves the calls it made. */
async function counting(body: () => Promise<unknown>): Promise<number> {
  await client.config('RESETSTAT');
  await body();
  return scriptCalls();
}

describe('RedisBatcher', () => {
  it('sends a lone call at once, without waiting for the next turn', async () => {
    const batcher = new RedisBatcher(client, OPTIONS);
    await batcher.run(echo, call('warm'));
    const queue = (client as unknown as { commandQueue: { length: number } }).commandQueue;
    const before = queue.length;
    const reply = batcher.run(echo, call('a'));
    // Written to the socket before run() returned.
    expect(queue.length).toBe(before + 1);
    expect(await reply).toEqual(['a', 1]);
    expect(batcher.pending).toBe(0);
  });

  it('sizes batches to the load: a quarter of queued plus in flight, at most 16', async () => {
    const batcher = new RedisBatcher(client, OPTIONS);
    await batcher.run(echo, call('warm'));
    const run = (count: number) =>
      Promise.all(Array.from({ length: count }, (_, i) => batcher.run(echo, call(`c${i}`))));
    let replies: Reply[] = [];
    // 1 alone, then 8 queued behind it: 9 pending, batches of 3.
    expect(await counting(async () => (replies = await run(9)))).toBe(1 + 3);
    expect(replies.map((r) => (r as Reply[])[0])).toEqual(
      Array.from({ length: 9 }, (_, i) => `c${i}`),
    );
    // 1 alone, then 99 queued: batches of 16 (the cap), 7 of them.
    expect(await counting(() => run(100))).toBe(1 + 7);
    expect(batcher.pending).toBe(0);
  });

  it('groups per operation and, on a Cluster, per hash slot', async () => {
    const batcher = new RedisBatcher(client, OPTIONS);
    await batcher.run(echo, call('warm'));
    await batcher.run(echoToo, call('warm'));
    const mixed = await counting(() =>
      Promise.all(
        Array.from({ length: 9 }, (_, i) => batcher.run(i % 2 ? echoToo : echo, call(`${i}`))),
      ),
    );
    // 1 alone; then 8 queued, 4 per operation, in batches of 3: 2 per operation.
    expect(mixed).toBe(1 + 4);
    const clustered = new RedisBatcher(client, { ...OPTIONS, clustered: true });
    const slots = await counting(() =>
      Promise.all(
        Array.from({ length: 5 }, (_, i) => clustered.run(echo, call('x', `{tag${i}}:k`))),
      ),
    );
    // 1 alone; then 4 queued, each its own hash slot.
    expect(slots).toBe(1 + 4);
  });

  it("one batch's failure fails its own calls only", async () => {
    const batcher = new RedisBatcher(client, OPTIONS);
    await batcher.run(echo, call('warm'));
    // 1 alone, then 16 queued (15 + the other operation's): 17 pending, batches of 5, so
    // calls 1-5, 6-10 (with the bad call) and 11-15, and the other operation's alone.
    const outcomes = await Promise.allSettled([
      ...Array.from({ length: 16 }, (_, i) => batcher.run(echo, call(i === 6 ? 'boom' : `${i}`))),
      batcher.run(echoToo, call('other')),
    ]);
    const failed = outcomes.flatMap((o, i) => (o.status === 'rejected' ? [i] : []));
    expect(failed).toEqual([6, 7, 8, 9, 10]);
    expect(outcomes[16]).toEqual({ status: 'fulfilled', value: ['other', 1] });
  });

  it('a batch past its deadline stops counting, so the next call goes out at once', async () => {
    const batcher = new RedisBatcher(client, { ...OPTIONS, timeoutMs: 100, failFast: false });
    await batcher.run(echo, call('warm'));
    server.process.kill('SIGSTOP');
    try {
      const lost = batcher.run(echo, call('lost'));
      expect(batcher.pending).toBe(1);
      await expect(lost).rejects.toMatchObject({ timedOut: true });
      expect(batcher.pending).toBe(0);
    } finally {
      server.process.kill('SIGCONT');
    }
    const queue = (client as unknown as { commandQueue: { length: number } }).commandQueue;
    const before = queue.length;
    const next = batcher.run(echo, call('next'));
    expect(queue.length).toBe(before + 1);
    expect(await next).toEqual(['next', 1]);
  });

  it('reloads the script on NOSCRIPT, for every batch sent during a stall to a Redis that never loaded it', async () => {
    const fresh = await startRedisServer();
    const freshClient = new Redis(fresh.url, { maxRetriesPerRequest: 1 });
    try {
      const batcher = new RedisBatcher(freshClient, OPTIONS);
      fresh.process.kill('SIGSTOP');
      const pending = Promise.all([
        ...Array.from({ length: 40 }, (_, i) => batcher.run(echo, call(`a${i}`))),
        ...Array.from({ length: 10 }, (_, i) => batcher.run(echoToo, call(`b${i}`))),
      ]);
      await new Promise((resolve) => setTimeout(resolve, 300));
      fresh.process.kill('SIGCONT');
      const replies = await pending;
      expect(replies.map((r) => (r as Reply[])[0])).toEqual([
        ...Array.from({ length: 40 }, (_, i) => `a${i}`),
        ...Array.from({ length: 10 }, (_, i) => `b${i}`),
      ]);
      // And again after SCRIPT FLUSH, under load.
      await freshClient.script('FLUSH');
      const again = await Promise.all(
        Array.from({ length: 30 }, (_, i) => batcher.run(echo, call(`${i}`))),
      );
      expect(again).toHaveLength(30);
      expect(batcher.pending).toBe(0);
    } finally {
      fresh.process.kill('SIGCONT');
      freshClient.disconnect();
      await fresh.stop();
    }
  });
});
