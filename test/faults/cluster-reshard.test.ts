import { clusterReshard } from '@sluice/test-support/faults';
import { describe, expect, it } from 'vitest';

const PROJECTS = 20;
const LIMIT = 40;

describe('Redis Cluster resharded under a steady load', () => {
  it('moves 200 slots with no error beyond the deny policy and admits at most the limit per project', async () => {
    const result = await clusterReshard({
      slots: 200,
      projects: PROJECTS,
      limit: LIMIT,
      ratePerSecond: 300,
      seconds: 5,
    });
    expect(result.samples.length).toBeGreaterThan(PROJECTS * LIMIT);
    expect(result.beyondPolicy).toEqual([]);
    expect(result.maxAdmittedPerProject).toBeLessThanOrEqual(LIMIT);
    expect(result.policyRefusals / result.samples.length).toBeLessThan(0.05);
  });
});
