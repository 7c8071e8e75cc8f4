import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * Path of `script` in the example store endpoint's build (`dist`), to run it as a user does:
 * the README's flow builds it before the tests.
 *
 * @example
 * ```ts
 * await run(process.execPath, [builtExample('main.js')], { env: { SLUICE_CONFIG: path, PORT: '0' } });
 * ```
 */
export function builtExample(script: string): string {
  const manifest = createRequire(import.meta.url).resolve(
    '@sluice/example-store-endpoint/package.json',
  );
  return join(dirname(manifest), 'dist', script);
}
