#!/usr/bin/env node
// Makes a fresh clone runnable: pnpm (the version pinned in package.json), the workspace's
// dependencies from the lockfile, the build, and with --redis a redis-server for the tests.
// Each step is skipped when already done, so `npm run demo` and `npm test` stay quick.
import { execSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const root = new URL('..', import.meta.url);
const { packageManager } = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));
const pnpmVersion = packageManager.replace(/^pnpm@/, '');

const has = (command) =>
  spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
const sh = (command) => {
  console.error(`[setup] ${command}`);
  execSync(command, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
};

if (!has('pnpm')) sh(`npm install -g pnpm@${pnpmVersion}`);
sh('pnpm install --frozen-lockfile --prefer-offline --reporter=silent');
sh('pnpm --silent run build');

if (process.argv.includes('--redis') && !process.env.REDIS_URL && !has('redis-server')) {
  if (process.getuid?.() === 0 && has('apt-get')) {
    sh('apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server');
  } else {
    console.error(
      '[setup] The tests need redis-server on PATH (Debian/Ubuntu: sudo apt-get install redis-server;' +
        ' macOS: brew install redis) or REDIS_URL pointing at a Redis server.',
    );
    process.exit(1);
  }
}
