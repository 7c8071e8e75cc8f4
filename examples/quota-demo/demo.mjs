// Drives sluice's fixed-window quotas through a burst on the in-memory store and prints what
// was accepted, what was dropped and why, and the Retry-After a client would be sent.
import { MemoryStore, organizationQuota, projectQuota, Quotas } from '@sluice/core';

const organization = 7;
const projects = [
  { id: 42, organizationId: organization, limit: 30 },
  { id: 43, organizationId: organization, limit: 100 },
];
const quotas = new Quotas({
  store: new MemoryStore(),
  getQuotas: (project) => [
    projectQuota(project, {
      limit: projects.find((p) => p.id === project.id)?.limit,
      windowSeconds: 60,
    }),
    organizationQuota(project, { limit: 80, windowSeconds: 60 }),
  ],
});

const now = Date.now() / 1000;
const rows = [];
for (const project of projects) {
  const tally = { project: project.id, sent: 0, accepted: 0, dropped: {}, retryAfter: undefined };
  for (let i = 0; i < 60; i++) {
    tally.sent++;
    const result = await quotas.isRateLimited(project, {
      category: 'error',
      timestamp: now + i * 0.01,
    });
    if (!result.isLimited) {
      tally.accepted++;
      continue;
    }
    tally.dropped[result.reasonCode] = (tally.dropped[result.reasonCode] ?? 0) + 1;
    tally.retryAfter = Math.max(1, Math.ceil(result.retryAfter));
  }
  rows.push(tally);
}

console.log('sluice quota demo: 60 events per project in a burst, memory store');
console.log('project quotas: 42 -> 30/min, 43 -> 100/min; organization 7 -> 80/min\n');
console.log('project  sent  accepted  dropped (by reason)                 Retry-After');
for (const r of rows) {
  const dropped =
    Object.entries(r.dropped)
      .map(([reason, n]) => `${reason}=${n}`)
      .join(' ') || '-';
  console.log(
    `${String(r.project).padEnd(9)}${String(r.sent).padEnd(6)}${String(r.accepted).padEnd(10)}${dropped.padEnd(36)}${r.retryAfter === undefined ? '-' : `${r.retryAfter}s`}`,
  );
}
const usage = await quotas.getUsage(projects[0], { timestamp: now + 1 });
console.log(`\nusage now: ${usage.map((u) => `${u.quota.id}=${u.used}`).join(', ')}`);
