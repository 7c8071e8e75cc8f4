// The adapters' soak: per framework (Express 5 and 4, Koa 3 and 2, Fastify 5), 10,000 fuzzed
// requests (auth headers, query strings, path ids: no 5xx, no crash, no counter for a refused
// request) and 10,000 mixed requests over real sockets on a private Redis (responses, handler
// errors, client aborts) that must leave 0 concurrency slots held. The test suite runs the same
// checks at 1,000 and 2,000. Exits non-zero on any failure.
//
// Usage: pnpm build && node --import tsx bench/adapters-soak.ts [--fuzz 10000] [--slots 10000]
import { parseArgs } from 'node:util';
import { ConcurrencyLimiter } from '@sluice/core';
import { RedisStore } from '@sluice/core/redis';
import { FRAMEWORKS, mixedRun } from '@sluice/test-support/frameworks';
import { checkFuzzedRequest, fuzzedRequest, fuzzOptions } from '@sluice/test-support/fuzz';
import { PROJECTS, resolveProject } from '@sluice/test-support/projects';
import { startRedisServer } from '@sluice/test-support/redis';
import fc from 'fast-check';
import { Redis } from 'ioredis';

const { values: args } = parseArgs({
  options: { fuzz: { type: 'string' }, slots: { type: 'string' } },
});

const fuzzRuns = Number(args.fuzz) || 10_000;
const slotRequests = Number(args.slots) || 10_000;
const LIMIT = 4;

const redis = await startRedisServer();
const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
let failures = 0;
console.log(
  `node ${process.version}; ${fuzzRuns} fuzzed requests and ${slotRequests} mixed requests per framework`,
);

for (const framework of FRAMEWORKS) {
  const fuzzStarted = performance.now();
  const { options, store } = fuzzOptions();
  const fuzzApp = await framework.build({ options });
  try {
    await fc.assert(
      fc.asyncProperty(fuzzedRequest, (request) => checkFuzzedRequest(fuzzApp, store, request)),
      { numRuns: fuzzRuns },
    );
    const seconds = (performance.now() - fuzzStarted) / 1000;
    console.log(
      `${framework.name.padEnd(10)} fuzz: ${fuzzRuns} cases passed in ${seconds.toFixed(1)} s ` +
        `(${store.size} counters left by admitted requests, none by refused ones)`,
    );
  } catch (error) {
    failures++;
    console.log(`${framework.name.padEnd(10)} fuzz: FAILED\n${String(error)}`);
  } finally {
    await fuzzApp.close();
  }

  const slotsStarted = performance.now();
  const slotStore = new RedisStore(client, { prefix: `soak${Date.now()}`, timeoutMs: 2000 });
  const slotApp = await framework.build({
    options: {
      store: slotStore,
      resolveProject,
      concurrency: { limit: LIMIT, leaseSeconds: 60 },
    },
  });
  try {
    const { outcomes } = await mixedRun(slotApp, {
      total: slotRequests,
      parallel: 16,
      keys: [PROJECTS.one.key, PROJECTS.two.key],
    });
    const slots = new ConcurrencyLimiter(slotStore, { limit: LIMIT });
    const held = (await slots.inFlight('1')) + (await slots.inFlight('2'));
    const seconds = (performance.now() - slotsStarted) / 1000;
    if (held !== 0) failures++;
    console.log(
      `${framework.name.padEnd(10)} slots: ${slotRequests} requests in ${seconds.toFixed(1)} s, ` +
        `${JSON.stringify(outcomes)}, slots held after: ${held} ${held === 0 ? '(ok)' : '(LEAKED)'}`,
    );
  } finally {
    await slotApp.close();
  }
}

client.disconnect();
await redis.stop();
console.log(failures === 0 ? 'soak passed' : `soak FAILED: ${failures} failure(s)`);
process.exitCode = failures === 0 ? 0 : 1;
