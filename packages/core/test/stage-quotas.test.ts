import { MemoryStore, type Project, type QuotaConfig, type SluiceRequest } from '@sluice/core';
import { describe, expect, it } from 'vitest';
import { StageQuotas } from '../src/http/stage-quotas.js';

const project: Project = { id: 1, organizationId: 7 };
const quota: QuotaConfig = {
  id: 'p',
  scope: 'project',
  limit: 1,
  windowSeconds: 3600,
  reasonCode: 'project_quota',
};
const request = (path: string): SluiceRequest => ({
  method: 'POST',
  path,
  headers: {},
  query: {},
  ip: '203.0.113.9',
});

/** A stage's quota source that notes which request it was asked about, answering later. */
function recordingStage() {
  const seen: string[] = [];
  const quotas = new StageQuotas(
    async (_project, req) => {
      seen.push(req.path);
      await new Promise((resolve) => setImmediate(resolve));
      return req.path === '/limited/' ? [quota] : [];
    },
    { store: new MemoryStore(), graceSeconds: 60, rejections: undefined },
  );
  return { seen, quotas };
}

describe('StageQuotas', () => {
  it('hands each call its own request, however calls interleave', async () => {
    const { seen, quotas } = recordingStage();
    const call = { category: 'error', quantity: 1 };
    const results = await Promise.all([
      quotas.isRateLimited(project, request('/limited/'), call, false),
      quotas.isRateLimited(project, request('/free/'), call, false),
      quotas.isRateLimited(project, request('/limited/'), call, true),
    ]);
    expect(seen).toEqual(['/limited/', '/free/', '/limited/']);
    expect(results.map((r) => r.isLimited)).toEqual([false, false, true]);
  });

  it('hands a refund its request, and the refund gives back what that request counted', async () => {
    const { seen, quotas } = recordingStage();
    const call = { category: 'error', quantity: 1 };
    const limited = request('/limited/');
    expect((await quotas.isRateLimited(project, limited, call, false)).isLimited).toBe(false);
    await quotas.refund(project, limited, call, false);
    expect(seen).toEqual(['/limited/', '/limited/']);
    expect((await quotas.isRateLimited(project, limited, call, false)).isLimited).toBe(false);
    expect((await quotas.isRateLimited(project, limited, call, false)).isLimited).toBe(true);
  });
});
