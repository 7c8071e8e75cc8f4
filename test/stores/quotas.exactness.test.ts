import { Quotas } from '@sluice/core';
import { RedisStore } from '@sluice/core/redis';
import { fixture, runChild } from '@sluice/test-support/processes';
import fc from 'fast-check';
import { Cluster } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';

describe('Quotas exactness on Redis', () => {
  it('1,000 concurrent decisions from two processes against limit 100 admit exactly 100', async () => {
    const prefix = `exact${Date.now()}`;
    const startAt = String(Date.now() + 2500);
    const timestamp = String(Date.now() / 1000);
    const args = [inject('redisUrl'), prefix, '500', '100', timestamp, startAt];
    const runs = await Promise.all([
      runChild(fixture('quota-burst.ts'), args),
      runChild(fixture('quota-burst.ts'), args),
    ]);
    for (const run of runs) expect(run.code, run.stderr).toBe(0);
    const admitted = runs.map((run) => JSON.parse(run.stdout).admitted as number);
    expect(admitted[0]! + admitted[1]!).toBe(100);
  });
});

describe('Quotas on a Redis Cluster', () => {
  const client = new Cluster(inject('clusterNodes'));
  afterAll(() => client.disconnect());

  it('10,000 random organization and project ids cause zero CROSSSLOT errors', async () => {
    const store = new RedisStore(client, { prefix: `xslot${Date.now()}`, timeoutMs: 5000 });
    const quotas = new Quotas({
      store,
      getQuotas: () => [
        { id: 'p', scope: 'project', limit: 1000, windowSeconds: 60, reasonCode: 'project_quota' },
        { id: 'k', scope: 'key', limit: null, windowSeconds: 3600 },
        { id: 'o', limit: 1000, windowSeconds: 86400, reasonCode: 'org_quota' },
      ],
    });
    // Organization ids are never empty (InvalidConfiguration), so neither are these.
    const id = fc.oneof(
      fc.string({ minLength: 1, maxLength: 40 }),
      fc.nat(),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }),
    );
    const samples = fc.sample(fc.tuple(id, id, fc.string({ maxLength: 32 })), {
      numRuns: 10_000,
      seed: 42,
    });
    const errors: unknown[] = [];
    for (let i = 0; i < samples.length; i += 500) {
      await Promise.all(
        samples.slice(i, i + 500).map(async ([organizationId, projectId, key]) => {
          try {
            await quotas.isRateLimited({ id: projectId, organizationId }, { key });
            await quotas.refund({ id: projectId, organizationId }, { key });
          } catch (error) {
            errors.push(error);
          }
        }),
      );
    }
    expect(errors.slice(0, 3)).toEqual([]);
  });
});
