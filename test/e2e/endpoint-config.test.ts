import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseConfig } from '@sluice/example-store-endpoint/config';
import { builtExample } from '@sluice/test-support/processes';
import { useTempDirs } from '@sluice/test-support/temp-dirs';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const main = builtExample('main.js');
const project = (quota: object) => ({
  projects: [
    {
      id: 42,
      organizationId: 7,
      publicKeys: ['a1b2c3d4e5f60718293a4b5c6d7e8f90'],
      quotas: [quota],
    },
  ],
});

describe('the store endpoint configuration', () => {
  const tempDir = useTempDirs('sluice-config-');
  it('defaults a quota without scope to the organization, and scopeId by scope', () => {
    const config = parseConfig({
      projects: [
        {
          id: 42,
          organizationId: 7,
          publicKeys: ['k1'],
          quotas: [
            { id: 'p', scope: 'project', limit: 1, windowSeconds: 60, reasonCode: 'project_quota' },
            { id: 'o', limit: 1, windowSeconds: 60, reasonCode: 'org_quota' },
          ],
        },
      ],
    });
    expect(config.projects[0]!.quotas.map((q) => [q.scope, q.scopeId])).toEqual([
      ['project', '42'],
      ['organization', '7'],
    ]);
    expect(config.projectOfKey('k1')?.id).toBe(42);
  });

  it.each([
    [
      project({ id: 'p', limit: -1, windowSeconds: 60, reasonCode: 'x' }),
      'projects[0].quotas[0].limit',
    ],
    [
      project({ id: 'p', limit: 5, windowSeconds: 0, reasonCode: 'x' }),
      'projects[0].quotas[0].windowSeconds',
    ],
    [project({ id: 'p', limit: 5, windowSeconds: 60 }), 'projects[0].quotas[0].reasonCode'],
    [
      { projects: [{ id: 42, organizationId: 7, publicKeys: [], quotas: [] }] },
      'projects[0].publicKeys',
    ],
    [{ projects: {} }, 'projects'],
  ])('a bad field stops the service with its path (%#)', async (config, path) => {
    const file = join(tempDir(), 'sluice.config.json');
    writeFileSync(file, JSON.stringify(config));
    const error = (await run(process.execPath, [main], {
      env: { ...process.env, SLUICE_CONFIG: file, PORT: '0' },
      timeout: 20_000,
    }).catch((e: unknown) => e)) as { code?: number; stderr?: string };
    expect(error.code).toBe(1);
    expect(error.stderr).toContain(`\`${path}\``);
  });
});
