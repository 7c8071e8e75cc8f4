import { scriptFlush } from '@sluice/test-support/faults';
import { describe, expect, it } from 'vitest';

describe('SCRIPT FLUSH every 500 ms under a steady load', () => {
  it('fails no decision', async () => {
    const result = await scriptFlush({ ratePerSecond: 300, seconds: 3, timeoutMs: 2000 });
    expect(result.samples.length).toBeGreaterThan(800);
    expect(result.metrics).toMatchObject({ storeErrors: 0, lastStoreError: '' });
    expect(
      result.samples
        .filter((s) => s.status !== 200)
        .map((s) => `${s.status} after ${Math.round(s.ms)} ms`),
    ).toEqual([]);
    expect(result.metrics.accepted).toBe(result.samples.length);
  });
});
