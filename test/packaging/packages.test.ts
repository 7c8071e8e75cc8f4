import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const testDir = fileURLToPath(new URL('..', import.meta.url));

/** Each published entry point and a name it must export. */
const ENTRIES: Array<[specifier: string, exportName: string]> = [
  ['@sluice/core', 'Quotas'],
  ['@sluice/core/redis', 'RedisStore'],
  ['@sluice/core/adapter', 'HttpLimiter'],
  ['@sluice/express', 'sluice'],
  ['@sluice/koa', 'sluice'],
  ['@sluice/fastify', 'sluicePlugin'],
];
const PACKAGES = ['core', 'express', 'koa', 'fastify'];

describe('packaging (built output)', () => {
  it.each(ENTRIES)('%s imports from ESM', async (specifier, name) => {
    const { stdout } = await run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const m = await import('${specifier}'); console.log(typeof m.${name});`,
      ],
      { cwd: testDir },
    );
    expect(stdout.trim()).toBe('function');
  });

  it.each(ENTRIES)('%s require()s from CommonJS', async (specifier, name) => {
    const { stdout } = await run(
      process.execPath,
      ['--input-type=commonjs', '-e', `console.log(typeof require('${specifier}').${name});`],
      { cwd: testDir },
    );
    expect(stdout.trim()).toBe('function');
  });

  it.each(PACKAGES)(
    'packages/%s passes publint and @arethetypeswrong/cli',
    async (dir) => {
      const path = `packages/${dir}`;
      const publint = await run('pnpm', ['exec', 'publint', '--strict', path], { cwd: root });
      expect(publint.stdout).toContain('All good');
      // ESM-only by design: Node >= 20.19 require()s ESM (tested above), so attw's node10 and
      // CJS-resolution rules are ignored; attw exits non-zero (and `run` rejects) on any other problem.
      const attw = await run(
        'pnpm',
        ['exec', 'attw', '--pack', path, '--profile', 'esm-only', '--format', 'ascii'],
        {
          cwd: root,
        },
      );
      expect(attw.stdout).toContain(`@sluice/${dir}`);
    },
    60_000,
  );
});
