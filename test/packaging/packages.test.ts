import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
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
  ['@sluice/core/opentelemetry', 'sluiceMetrics'],
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

  it('@sluice/core and @sluice/core/redis never import @opentelemetry/api (an optional peer)', () => {
    const dist = join(root, 'packages/core/dist');
    /** Every bare specifier the built module `file` reaches through its relative imports. */
    const bare = new Set<string>();
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const source = readFileSync(file, 'utf8');
      for (const [, specifier] of source.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)) {
        if (specifier!.startsWith('.')) visit(join(dirname(file), specifier!));
        else bare.add(specifier!);
      }
    };
    visit(join(dist, 'index.js'));
    visit(join(dist, 'redis.js'));
    expect(seen.size).toBeGreaterThan(50);
    expect([...bare].filter((s) => s.startsWith('@opentelemetry'))).toEqual([]);
    expect(bare).toContain('node:diagnostics_channel');
    // The bridge's entry does import it.
    seen.clear();
    bare.clear();
    visit(join(dist, 'opentelemetry.js'));
    expect(bare).toContain('@opentelemetry/api');
  });
});
