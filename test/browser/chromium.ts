import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Where Debian's `chromium` package puts the browser. */
const DEBIAN_CHROMIUM = '/usr/bin/chromium';
const NAMES = ['chromium', 'chromium-browser'];

/**
 * The Chromium the browser test drives: `CHROMIUM_PATH`, else Debian's `/usr/bin/chromium`,
 * else `chromium` or `chromium-browser` on PATH. None is a failure that says how to install
 * one, never a skip.
 *
 * @example
 * const browser = await launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS });
 */
export function chromiumPath(): string {
  const candidates = process.env.CHROMIUM_PATH
    ? [process.env.CHROMIUM_PATH]
    : [
        DEBIAN_CHROMIUM,
        ...(process.env.PATH ?? '')
          .split(delimiter)
          .flatMap((dir) => NAMES.map((name) => join(dir, name))),
      ];
  const found = candidates.find(isExecutable);
  if (found !== undefined) return found;
  const looked = candidates.length > 3 ? [...candidates.slice(0, 3), '...'] : candidates;
  throw new Error(
    `The browser test needs Chromium and found none (looked at ${looked.join(', ')}). ` +
      'Install it with `node scripts/setup.mjs --browser` (as root on Debian/Ubuntu it runs ' +
      '`apt-get install chromium`), or set CHROMIUM_PATH to a Chromium or Chrome binary.',
  );
}

/**
 * Flags for headless Chromium in a container as root: no sandbox (it refuses to run as root
 * with one) and no /dev/shm (often 64 MB there, which crashes tabs).
 */
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-dev-shm-usage'];

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
