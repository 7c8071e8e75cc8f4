import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(`./packages/${path}`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^@sluice\/core$/, replacement: src('core/src/index.ts') },
      { find: /^@sluice\/core\/redis$/, replacement: src('core/src/redis.ts') },
      { find: /^@sluice\/core\/adapter$/, replacement: src('core/src/adapter.ts') },
      {
        find: /^@sluice\/core\/opentelemetry$/,
        replacement: src('core/src/opentelemetry.ts'),
      },
      { find: /^@sluice\/(express|koa|fastify)$/, replacement: src('$1/src/index.ts') },
    ],
  },
  test: {
    globalSetup: ['./test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'stores', include: ['test/stores/**/*.test.ts'] } },
      // Core's white-box tests of its own internals live beside it, in packages/core/test.
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'packages/core/test/**/*.test.ts'],
        },
      },
      { extends: true, test: { name: 'packaging', include: ['test/packaging/**/*.test.ts'] } },
      // Tests that stop, kill, flush or flood Redis run one file at a time, each on its own server.
      {
        extends: true,
        test: { name: 'faults', include: ['test/faults/**/*.test.ts'], fileParallelism: false },
      },
      { extends: true, test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'] } },
      { extends: true, test: { name: 'adapters', include: ['test/adapters/**/*.test.ts'] } },
      // Headless Chromium with the real @sentry/browser; fails (never skips) without Chromium.
      { extends: true, test: { name: 'browser', include: ['test/browser/**/*.test.ts'] } },
    ],
  },
});
