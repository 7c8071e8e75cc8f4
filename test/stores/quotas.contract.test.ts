import { InvalidConfiguration, type Project, type QuotaConfig, Quotas } from '@sluice/core';
import { describe, expect, it } from 'vitest';
import { STORE_KINDS, useStore } from '../support/stores.js';

const project: Project = { id: 42, organizationId: 7 };

describe.each(STORE_KINDS)('Quotas on %s', (kind) => {
  const harness = useStore(kind);
  const quotasOf = (quotas: QuotaConfig[]) =>
    new Quotas({ store: harness.store(), getQuotas: () => quotas });

  it('two quotas of limits 1 and 2: a refusal by the first consumes nothing of the second', async () => {
    const configs: QuotaConfig[] = [
      { id: 'a', limit: 1, windowSeconds: 60, reasonCode: 'a_quota' },
      { id: 'b', limit: 2, windowSeconds: 60, reasonCode: 'b_quota' },
    ];
    const quotas = quotasOf(configs);
    const t = 1_700_000_000;
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await quotas.isRateLimited(project, { timestamp: t }));
    expect(results.map((r) => [r.isLimited, r.reasonCode])).toEqual([
      [false, undefined],
      [true, 'a_quota'],
      [true, 'a_quota'],
    ]);
    const usage = await quotas.getUsage(project, { timestamp: t });
    expect(usage.map((u) => u.used)).toEqual([1, 1]);
  });

  it('rejects invalid per-call configuration with the typed error', async () => {
    const quotas = quotasOf([{ id: 'p', limit: Number.NaN, windowSeconds: 60, reasonCode: 'x' }]);
    await expect(quotas.isRateLimited(project)).rejects.toBeInstanceOf(InvalidConfiguration);
  });
});
