// The local fallback's scaled limits: floor(limit x localShare), a rounded fraction means what
// it says, 0 and null stay as they are, a limit that is not one is left for the engine to name,
// and the engines built on the local store decide at the scaled limits.
import {
  MemoryStore,
  type Project,
  Quota,
  type QuotaConfig,
  type SluiceRequest,
} from '@sluice/core';
import { describe, expect, it } from 'vitest';
import { localEngines, scaledLimit, scaledQuotaConfig } from '../src/http/local-engines.js';

const project: Project = { id: 1, organizationId: 7 };
const req: SluiceRequest = { method: 'POST', path: '/', headers: {}, query: {}, ip: '127.0.0.1' };
const quota = (limit: number | null): QuotaConfig => ({
  id: 'p',
  scope: 'project',
  limit,
  windowSeconds: 3600,
  reasonCode: 'project_quota',
});

describe('scaledLimit', () => {
  it.each([
    [100, 0.25, 25],
    [10, 1 / 3, 3],
    [3, 1 / 3, 1],
    [100, 0.29, 29],
    [7, 1, 7],
    [3, 0.2, 0],
    [1, 0.999, 0],
  ])('floor(%d x %d) = %d', (limit, share, expected) => {
    expect(scaledLimit(limit, share)).toBe(expected);
  });
});

describe('scaledQuotaConfig', () => {
  it('scales an enforced limit and keeps the rest of the quota', () => {
    expect(scaledQuotaConfig(quota(100), 0.5)).toEqual({ ...quota(100), limit: 50 });
  });
  it('keeps null (unlimited) and 0 (reject all), and leaves an invalid limit for the engine', () => {
    for (const limit of [null, 0, -1, 2.5, Number.NaN]) {
      const given = quota(limit);
      expect(scaledQuotaConfig(given, 0.5)).toBe(given);
    }
  });
});

describe('localEngines', () => {
  it('decide quotas, windows and concurrency at the scaled limits on the local store', async () => {
    const store = new MemoryStore();
    const engines = localEngines(
      {
        quotas: async () => [quota(10)],
        windows: {
          prefix: () => 'w',
          quotas: [new Quota({ windowSeconds: 3600, granularitySeconds: 60, limit: 8 })],
        },
        concurrency: { limit: 5 },
      },
      { store, share: 0.5, graceSeconds: 60 },
    );
    const call = { category: undefined, quantity: 1, key: undefined };
    let admitted = 0;
    for (let i = 0; i < 8; i++) {
      if (!(await engines.quotas!.isRateLimited(project, req, call, false)).isLimited) admitted++;
    }
    expect(admitted).toBe(5);
    expect(engines.windows!.quotas.map((q) => q.limit)).toEqual([4]);
    expect(engines.concurrency!.limit).toBe(2);
    const leases = await Promise.all(
      [1, 2, 3].map(() => engines.concurrency!.limiter.acquire('k')),
    );
    expect(leases.map((lease) => lease !== null)).toEqual([true, true, false]);
  });

  it('a concurrency limit scaled to 0 never gives a slot', async () => {
    const engines = localEngines(
      { concurrency: { limit: 3 } },
      { store: new MemoryStore(), share: 0.2, graceSeconds: 60 },
    );
    expect(engines.concurrency!.limit).toBe(0);
    expect(await engines.concurrency!.limiter.acquire('k')).toBeNull();
  });
});
