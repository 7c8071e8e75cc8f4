import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** A child Node process running a TypeScript fixture through tsx. */
export interface ChildRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Path of a fixture (a TypeScript program in this package's `fixtures` folder).
 *
 * @example
 * ```ts
 * const run = await runChild(fixture('quota-burst.ts'), [redisUrl, prefix, '50', '10']);
 * ```
 */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`../../fixtures/${name}`, import.meta.url));
}

/**
 * The environment that makes tsx resolve `@sluice/core` (and its `/redis` and `/adapter`
 * entries) to core's sources, as vitest.config.ts does for the test that starts the process,
 * so parent and child run the same code without a build.
 *
 * @example
 * ```ts
 * spawn(process.execPath, ['--import', 'tsx', fixture('quota-burst.ts')], {
 *   env: { ...process.env, ...CORE_FROM_SOURCES },
 * });
 * ```
 */
export const CORE_FROM_SOURCES: Readonly<Record<string, string>> = {
  TSX_TSCONFIG_PATH: fileURLToPath(new URL('../../tsconfig.core-sources.json', import.meta.url)),
};

/**
 * Runs `file` (TypeScript, through tsx) in a separate Node process with `args` and `env`
 * added, and resolves when it exits. `@sluice/core` resolves to its sources
 * ({@link CORE_FROM_SOURCES}).
 *
 * @example
 * ```ts
 * const { code, stdout } = await runChild(fixture('quota-burst.ts'), args);
 * expect(code).toBe(0);
 * ```
 */
export function runChild(
  file: string,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file, ...args], {
      env: { ...process.env, ...CORE_FROM_SOURCES, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}
