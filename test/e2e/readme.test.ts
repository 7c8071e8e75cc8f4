import { exec } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { useTempDirs } from '@sluice/test-support/temp-dirs';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(exec);

/** The two commands of the README's first code block: the main job, then the tests. */
function readmeCommands(): { main: string; test: string } {
  const readme = readFileSync(`${root}/README.md`, 'utf8');
  const block = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
  const [main, test] = block
    .split('\n')
    .map((line) => line.replace(/#.*$/, '').trim())
    .filter((line) => line !== '');
  return { main: main ?? '', test: test ?? '' };
}

describe('the README', () => {
  const tempDir = useTempDirs('sluice-readme-');
  it('gives the main command and the test command on its first screen', () => {
    const readme = readFileSync(`${root}/README.md`, 'utf8');
    const firstScreen = readme.split('\n').slice(0, 20).join('\n');
    const { main, test } = readmeCommands();
    expect(main).toBe('npm run demo');
    expect(test).toBe('npm test');
    expect(firstScreen).toContain(main);
    expect(firstScreen).toContain(test);
  });

  it('its main command runs as written: the endpoint, the real SDK, the burst over quota', async () => {
    // The demo keeps its config and accepted data in a temporary folder for the user to read;
    // here that folder is made inside one the test removes.
    const env = { ...process.env, TMPDIR: tempDir() };
    const { stdout } = await run(readmeCommands().main, { cwd: root, env, timeout: 120_000 });
    expect(stdout).toMatch(/@sentry\/node\s+error\s+\d+\s+\d+\s+project_quota=\d+/);
    expect(stdout).toMatch(
      /429, Retry-After: \d+, X-Sentry-Rate-Limits: \d+:error:project:project_quota/,
    );
    expect(stdout).toMatch(/plain HTTP statuses: (200 ){5}429 429 429/);
  }, 120_000);

  it('.ci/run calls its test command verbatim', () => {
    const ci = readFileSync(`${root}/.ci/run`, 'utf8')
      .split('\n')
      .map((line) => line.trim());
    expect(ci).toContain(readmeCommands().test);
  });
});
