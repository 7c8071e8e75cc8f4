// Fuzzing (fast-check) of Sentry auth headers, query strings and project ids in the path,
// including oversized, unicode, duplicated and malformed values: never a 5xx, never a crash,
// never a counter for a request that failed authentication. 1,000 cases per framework here;
// `bench/adapters-soak.ts` runs 10,000.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FRAMEWORKS } from './harness/frameworks.js';
import { checkFuzzedRequest, fuzzedRequest, fuzzOptions } from './harness/fuzz-cases.js';

const RUNS = 1000;

describe.each(FRAMEWORKS)('fuzzed requests: $name', (framework) => {
  it(`${RUNS} cases: no 5xx, no crash, no counter for a refused request`, async () => {
    const { options, store } = fuzzOptions();
    const app = await framework.build({ options });
    try {
      await fc.assert(
        fc.asyncProperty(fuzzedRequest, async (request) => {
          await checkFuzzedRequest(app, store, request);
        }),
        { numRuns: RUNS },
      );
      // The generators reach both sides: many requests got in, each leaving a counter.
      expect(store.size).toBeGreaterThan(RUNS / 10);
    } finally {
      await app.close();
    }
  });
});
