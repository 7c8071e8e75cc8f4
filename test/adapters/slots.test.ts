// Concurrency slots taken for a request are given back when the response finishes, when the
// handler fails, and when the client disconnects (also while the limiter is still deciding):
// 2,000 mixed requests over real sockets per framework, on Redis, leave no slot held.
// `bench/adapters-soak.ts` runs 10,000.
import { ConcurrencyLimiter } from '@sluice/core';
import { FRAMEWORKS, mixedRun } from '@sluice/test-support/frameworks';
import { PROJECTS, resolveProject } from '@sluice/test-support/projects';
import { useStore } from '@sluice/test-support/stores';
import { describe, expect, it } from 'vitest';

const TOTAL = 2000;
const LIMIT = 4;

describe.each(FRAMEWORKS)('concurrency slots: $name', (framework) => {
  const redis = useStore('redis');

  it(`${TOTAL} mixed requests (responses, handler errors, client aborts) leave 0 slots held`, async () => {
    const store = redis.store();
    const app = await framework.build({
      options: { store, resolveProject, concurrency: { limit: LIMIT, leaseSeconds: 60 } },
    });
    try {
      const { outcomes } = await mixedRun(app, {
        total: TOTAL,
        parallel: 16,
        keys: [PROJECTS.one.key, PROJECTS.two.key],
      });
      // The run was mixed: answered, failed, refused at the limit, and abandoned.
      expect(outcomes['200']).toBeGreaterThan(0);
      expect(outcomes['500']).toBeGreaterThan(0);
      expect(outcomes['429']).toBeGreaterThan(0);
      expect(outcomes.aborted).toBe(TOTAL / 2);
      const slots = new ConcurrencyLimiter(store, { limit: LIMIT });
      expect([await slots.inFlight('1'), await slots.inFlight('2')]).toEqual([0, 0]);
    } finally {
      await app.close();
    }
  });
});
