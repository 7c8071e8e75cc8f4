import { InvalidConfiguration, type Project } from '@sluice/core';
import { HttpLimiter } from '@sluice/core/adapter';
import { describe, expect, it } from 'vitest';

// `enforce` as a fraction (issue 14 §3): a gradual rollout that enforces a stable share of the
// projects, the same ones on every request and in every process, the 10% still in at 50%.

const PROJECTS = 4000;
const projectOf = (i: number): Project => ({ id: i, organizationId: 1 + (i % 7) });

/** The projects `enforce` enforces, decided through the HTTP limiter (limit 0 refuses all). */
async function enforced(enforce: number): Promise<Set<number>> {
  const limiter = new HttpLimiter({
    identify: (req) => ({ project: projectOf(Number(req.query.p)) }),
    quotas: [{ id: 'off', scope: 'project', limit: 0, windowSeconds: 60, reasonCode: 'rollout' }],
    enforce,
  });
  const refused = new Set<number>();
  for (let i = 0; i < PROJECTS; i++) {
    const decision = await limiter.decide(
      { method: 'GET', url: `/x?p=${i}`, headers: {}, ip: '127.0.0.1' },
      {},
    );
    if (decision.action === 'respond') refused.add(i);
  }
  return refused;
}

describe('enforce as a fraction of projects', () => {
  it('enforces about that share, the same projects every time, and more projects only as it grows', async () => {
    const ten = await enforced(0.1);
    const fifty = await enforced(0.5);
    expect(ten.size / PROJECTS).toBeGreaterThan(0.08);
    expect(ten.size / PROJECTS).toBeLessThan(0.12);
    expect(fifty.size / PROJECTS).toBeGreaterThan(0.46);
    expect(fifty.size / PROJECTS).toBeLessThan(0.54);
    for (const id of ten) expect(fifty.has(id)).toBe(true);
    expect([...(await enforced(0.1))]).toEqual([...ten]);
    expect((await enforced(0)).size).toBe(0);
    expect((await enforced(1)).size).toBe(PROJECTS);
  });

  it.each([-0.1, 1.5, Number.NaN, '0.5'])(
    '%o is an InvalidConfiguration naming enforce',
    (enforce) => {
      try {
        new HttpLimiter({ identify: () => null, enforce: enforce as number });
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidConfiguration);
        expect((error as InvalidConfiguration).option).toBe('enforce');
      }
    },
  );
});
