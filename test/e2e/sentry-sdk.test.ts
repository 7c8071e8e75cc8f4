import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type AppProcess, builtExample, startEndpoint } from '@sluice/test-support/processes';
import { useTempDirs } from '@sluice/test-support/temp-dirs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

const run = promisify(execFile);
const KEY = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
const N = 5;
const sdkClient = builtExample('sdk-client.js');

interface Sent {
  startedAt: number;
  at: number;
  types: string[];
  status: number | undefined;
  retryAfter: string | null;
  rateLimits: string | null;
}

const tempDir = useTempDirs('sluice-e2e-');

/** Fresh ids per endpoint, so runs sharing the test Redis never share counters. */
let nextId = Math.floor(Math.random() * 1e9);

function writeConfig(projectId: number, errorLimit: number | null): string {
  const path = join(tempDir(), 'sluice.config.json');
  const quotas =
    errorLimit === null
      ? []
      : [
          // A long window: the Retry-After outlasts the test, so the SDK must hold errors back.
          {
            id: 'e',
            scope: 'project',
            categories: ['error'],
            limit: errorLimit,
            windowSeconds: 3600,
            reasonCode: 'project_quota',
          },
        ];
  const project = { id: projectId, organizationId: projectId, publicKeys: [KEY], quotas };
  writeFileSync(path, JSON.stringify({ projects: [project] }));
  return path;
}

async function runSdk(
  endpoint: AppProcess,
  projectId: number,
  plan: object,
): Promise<{ captured: { errors: number }; sent: Sent[] }> {
  const { stdout } = await run(process.execPath, [sdkClient], {
    env: {
      ...process.env,
      SENTRY_DSN: `http://${KEY}@${endpoint.url.slice('http://'.length)}/${projectId}`,
      SDK_PLAN: JSON.stringify(plan),
    },
    timeout: 30_000,
  });
  return JSON.parse(stdout);
}

interface Stats {
  accepted: Record<string, number>;
  dropped: Record<string, Record<string, number>>;
}

const STORES = [
  ['memory', () => ({})],
  ['redis', () => ({ REDIS_URL: inject('redisUrl') })],
] as const;

describe.each(['fastify', 'express', 'koa'])(
  'the example endpoint on %s with the real @sentry/node SDK',
  (framework) => {
    describe.each(STORES)('%s store', (_store, env) => {
      let limited: AppProcess;
      let open: AppProcess;
      const limitedId = ++nextId;
      const openId = ++nextId;
      beforeAll(async () => {
        const output = { SLUICE_OUTPUT: '/dev/null' };
        [limited, open] = await Promise.all([
          startEndpoint(framework, {
            ...env(),
            ...output,
            SLUICE_CONFIG: writeConfig(limitedId, N),
          }),
          startEndpoint(framework, {
            ...env(),
            ...output,
            SLUICE_CONFIG: writeConfig(openId, null),
          }),
        ]);
      });
      afterAll(async () => {
        await Promise.all([limited?.stop(), open?.stop()]);
      });

      it(`of ${3 * N} errors exactly ${N} reach the endpoint, the SDK holds errors back for the Retry-After, transactions still arrive`, async () => {
        const { captured, sent } = await runSdk(limited, limitedId, {
          errors: 3 * N,
          transactions: 2,
          followUpMs: 600,
          followUpEveryMs: 100,
        });
        const stats = await limited.json<Stats>(`/api/${limitedId}/stats/`);
        expect(captured.errors).toBeGreaterThan(3 * N);
        expect(stats.accepted.error).toBe(N);
        const refusal = sent.find((s) => s.status === 429 && s.types.includes('event'));
        expect(refusal?.rateLimits).toMatch(/^\d+:error:project:project_quota$/);
        expect(Number(refusal?.retryAfter)).toBeGreaterThanOrEqual(1);
        const sentAfter = sent.filter(
          (s) => s.startedAt > refusal!.at && s.types.includes('event') && s.status !== undefined,
        );
        expect(sentAfter).toEqual([]);
        expect(
          sent.filter((s) => s.startedAt > refusal!.at && s.types.includes('event')).length,
        ).toBeGreaterThan(0);
        expect((stats.accepted.transaction ?? 0) + (stats.accepted.span ?? 0)).toBeGreaterThan(0);
        expect(stats.dropped.error?.project_quota).toBeGreaterThan(0);
      });

      it('accepts events larger than 32 KiB, which the SDK sends gzipped', async () => {
        const { sent } = await runSdk(open, openId, { bigErrors: 2 });
        expect(sent.filter((s) => s.status === 200)).toHaveLength(2);
        const stats = await open.json<Stats>(`/api/${openId}/stats/`);
        expect(stats.accepted.error).toBe(2);
      });
    });
  },
);
