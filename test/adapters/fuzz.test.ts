// Fuzzing (fast-check) of Sentry auth headers, query strings and project ids in the path,
// including oversized, unicode, duplicated and malformed values: never a 5xx, never a crash,
// never a counter for a request that failed authentication. 1,000 cases per framework here;
// `bench/adapters-soak.ts` runs 10,000. Then request values (category, quantity, window prefix,
// concurrency key) pushed into every header sluice writes.

import { FRAMEWORKS } from '@sluice/test-support/frameworks';
import {
  checkFuzzedRequest,
  checkValueRequest,
  fuzzedRequest,
  fuzzOptions,
  valueOptions,
  valueRequest,
} from '@sluice/test-support/fuzz';
import { countingStore, frozenStore } from '@sluice/test-support/projects';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const RUNS = 1000;
/** Cases of request values carried into headers, per framework. */
const VALUE_RUNS = 400;

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

describe.each(FRAMEWORKS)('request values in every header: $name', (framework) => {
  it(`${VALUE_RUNS} cases: well-formed headers, a 4xx never a 5xx, nothing counted on a 400`, async () => {
    const store = countingStore(frozenStore());
    const app = await framework.build({ options: valueOptions(store) });
    const statuses = new Set<number>();
    try {
      await fc.assert(
        fc.asyncProperty(valueRequest, async (request) => {
          statuses.add(await checkValueRequest(app, store, request));
        }),
        { numRuns: VALUE_RUNS, seed: 11 },
      );
      // The generators reach every answer.
      expect([...statuses].sort()).toEqual([200, 400, 429]);
    } finally {
      await app.close();
    }
  });
});
