import { describe, expect, it } from 'vitest';
import { hotKey } from '../support/fault-scenarios.js';

describe('a hot project far over quota', () => {
  it('costs close to zero Redis commands per rejected request', async () => {
    const result = await hotKey({ ratePerSecond: 500, requests: 1500 });
    expect(result.rejected).toBe(result.limited.length);
    expect(result.rejected).toBeGreaterThan(1000);
    expect(result.commandsPerRejected).toBeLessThan(0.01);
  });
});
