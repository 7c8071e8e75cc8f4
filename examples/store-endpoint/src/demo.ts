// The quickstart: runs the store endpoint on the memory store, drives it with the real
// @sentry/node SDK (in its own process) and with plain HTTP through a burst over quota, and
// prints what was sent, accepted and dropped, the Retry-After sent, and how long the SDK then
// held back that category.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { ProjectStats } from './ingest-log.js';
import { start } from './main.js';
import type { SentEnvelope } from './sdk-client.js';

const run = promisify(execFile);
const SDK_KEY = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
const HTTP_KEY = 'b1b2c3d4e5f60718293a4b5c6d7e8f91';
const ERROR_LIMIT = 10;
const dir = mkdtempSync(join(tmpdir(), 'sluice-demo-'));
const configPath = join(dir, 'sluice.config.json');
writeFileSync(
  configPath,
  JSON.stringify({
    projects: [
      {
        id: 42,
        organizationId: 7,
        publicKeys: [SDK_KEY],
        quotas: [
          {
            id: 'e',
            scope: 'project',
            categories: ['error'],
            limit: ERROR_LIMIT,
            windowSeconds: 5,
            reasonCode: 'project_quota',
          },
          { id: 'o', limit: 1000, windowSeconds: 60, reasonCode: 'org_quota' },
        ],
      },
      {
        id: 43,
        organizationId: 8,
        publicKeys: [HTTP_KEY],
        quotas: [{ id: 'o', limit: 5, windowSeconds: 3600, reasonCode: 'org_quota' }],
      },
    ],
  }),
);

const endpoint = await start({
  framework: 'fastify',
  port: 0,
  configPath,
  output: join(dir, 'accepted.jsonl'),
});
console.log(
  `store endpoint: ${endpoint.url} (fastify, memory store); accepted data: ${join(dir, 'accepted.jsonl')}`,
);
console.log(
  `project 42: errors ${ERROR_LIMIT} per 5 s window; project 43: organization quota 5 per hour\n`,
);

// 1. The real SDK: a burst of 3x the error quota and a few transactions, then one error every
//    200 ms for 6 s, to see when it sends errors again.
const host = endpoint.url.replace('http://', '');
const sdk = await run(
  process.execPath,
  [fileURLToPath(new URL('./sdk-client.js', import.meta.url))],
  {
    env: {
      ...process.env,
      SENTRY_DSN: `http://${SDK_KEY}@${host}/42`,
      SDK_PLAN: JSON.stringify({
        errors: 3 * ERROR_LIMIT,
        transactions: 3,
        followUpMs: 6000,
        followUpEveryMs: 200,
      }),
    },
  },
);
const { captured, sent } = JSON.parse(sdk.stdout) as {
  captured: { errors: number; transactions: number };
  sent: SentEnvelope[];
};

// 2. Plain HTTP: 8 store requests against a project whose organization allows 5 an hour.
const statuses: number[] = [];
let refusal: Response | undefined;
for (let i = 0; i < 8; i++) {
  const res = await fetch(`${endpoint.url}/api/43/store/`, {
    method: 'POST',
    headers: { 'X-Sentry-Auth': `Sentry sentry_key=${HTTP_KEY}, sentry_version=7` },
    body: JSON.stringify({ event_id: `${i}`.padStart(32, '0'), message: `plain ${i}` }),
  });
  statuses.push(res.status);
  if (res.status === 429) refusal = res;
}

const stats42 = (await (await fetch(`${endpoint.url}/api/42/stats/`)).json()) as ProjectStats;
const stats43 = (await (await fetch(`${endpoint.url}/api/43/stats/`)).json()) as ProjectStats;
await endpoint.close();

const firstRefusal = sent.find((s) => s.status === 429 && s.types.includes('event'));
const nextErrorSend =
  firstRefusal &&
  sent.find(
    (s) => s.startedAt > firstRefusal.at && s.types.includes('event') && s.status !== undefined,
  );
const errorEnvelopes = sent.filter(
  (s) => s.types.includes('event') && s.status !== undefined,
).length;
const dropped = (stats: ProjectStats, category: string) =>
  Object.entries(stats.dropped[category] ?? {})
    .map(([reason, n]) => `${reason}=${n}`)
    .join(' ') || '-';

const rows = [
  ['client', 'category', 'sent', 'accepted', 'dropped at the endpoint', 'held back by the SDK'],
  [
    '@sentry/node',
    'error',
    String(captured.errors),
    String(stats42.accepted.error ?? 0),
    dropped(stats42, 'error'),
    String(captured.errors - errorEnvelopes),
  ],
  [
    '@sentry/node',
    'transaction (span items)',
    String(captured.transactions),
    String((stats42.accepted.transaction ?? 0) + (stats42.accepted.span ?? 0)),
    dropped(stats42, 'transaction'),
    '0',
  ],
  [
    'plain HTTP',
    'error',
    String(statuses.length),
    String(statuses.filter((s) => s === 200).length),
    dropped(stats43, 'error'),
    '-',
  ],
];
const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
for (const [i, row] of rows.entries()) {
  console.log(row.map((cell, c) => cell.padEnd(widths[c]!)).join('  '));
  if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
}
console.log('');
if (firstRefusal) {
  console.log(
    `SDK's first refused error: 429, Retry-After: ${firstRefusal.retryAfter}, X-Sentry-Rate-Limits: ${firstRefusal.rateLimits}`,
  );
  console.log(
    nextErrorSend
      ? `SDK's next error send started ${((nextErrorSend.startedAt - firstRefusal.at) / 1000).toFixed(1)} s after that answer (it obeys X-Sentry-Rate-Limits)`
      : 'the SDK sent no error again during the follow-up',
  );
}
if (refusal) {
  console.log(
    `plain HTTP statuses: ${statuses.join(' ')}; the 429 said Retry-After: ${refusal.headers.get('retry-after')}, ` +
      `X-Sentry-Rate-Limit-Reason: ${refusal.headers.get('x-sentry-rate-limit-reason')}, ` +
      `X-Sentry-Rate-Limits: ${refusal.headers.get('x-sentry-rate-limits')}`,
  );
}
