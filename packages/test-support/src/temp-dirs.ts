import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

/**
 * Temporary folders for one test file or suite, every one removed after its last test. Call it
 * where hooks are registered (a file's or a `describe`'s body); the function it returns makes
 * a fresh folder named `prefix` + six random characters in the OS temporary directory.
 *
 * @example
 * ```ts
 * const tempDir = useTempDirs('sluice-e2e-');
 *
 * it('reads its config', async () => {
 *   const path = join(tempDir(), 'sluice.config.json');
 *   writeFileSync(path, JSON.stringify(config));
 * });
 * ```
 */
export function useTempDirs(prefix: string): () => string {
  const made: string[] = [];
  afterAll(async () => {
    await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });
  return () => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    made.push(dir);
    return dir;
  };
}
