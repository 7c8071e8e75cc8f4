#!/usr/bin/env node
// Makes a fresh clone runnable: pnpm (the version pinned in package.json), the workspace's
// dependencies from the lockfile, the build, with --redis a redis-server for the tests, and with
// --browser Debian's chromium for the browser test (test/browser).
// Each step is skipped when already done, so `npm run demo` and `npm test` stay quick.
import { execSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

const root = new URL('..', import.meta.url);
const { packageManager } = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));
const pnpmVersion = packageManager.replace(/^pnpm@/, '');

const has = (command) =>
  spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
const sh = (command) => {
  console.error(`[setup] ${command}`);
  execSync(command, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
};
const asRootWithApt = () => process.getuid?.() === 0 && has('apt-get');
const aptInstall = (name) =>
  sh(`apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${name}`);

if (!has('pnpm')) sh(`npm install -g pnpm@${pnpmVersion}`);
sh('pnpm install --frozen-lockfile --prefer-offline --reporter=silent');
sh('pnpm --silent run build');

if (process.argv.includes('--redis') && !process.env.REDIS_URL && !has('redis-server')) {
  if (asRootWithApt()) {
    aptInstall('redis-server');
  } else {
    console.error(
      '[setup] The tests need redis-server on PATH (Debian/Ubuntu: sudo apt-get install redis-server;' +
        ' macOS: brew install redis) or REDIS_URL pointing at a Redis server.',
    );
    process.exit(1);
  }
}

// The same places test/browser/chromium.ts looks: CHROMIUM_PATH, Debian's path, then PATH.
const hasChromium = () =>
  (process.env.CHROMIUM_PATH && existsSync(process.env.CHROMIUM_PATH)) ||
  existsSync('/usr/bin/chromium') ||
  has('chromium') ||
  has('chromium-browser');

if (process.argv.includes('--browser') && !hasChromium()) {
  if (asRootWithApt()) {
    aptInstall('chromium');
  } else {
    console.error(
      '[setup] The browser test needs Chromium (Debian/Ubuntu: sudo apt-get install chromium;' +
        ' elsewhere: install Chromium or Chrome and set CHROMIUM_PATH to its binary).',
    );
    process.exit(1);
  }
}
