// The real @sentry/browser in headless Chromium, on a page of another origin, against the example
// endpoint on each framework: a burst over a 4-second error quota has exactly the quota accepted;
// the SDK reads the 429's X-Sentry-Rate-Limits through CORS, sends no error until the retry time
// (while feedback still goes out), and sends errors again after it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ProjectStats } from '@sluice/example-store-endpoint/ingest-log';
import { start } from '@sluice/example-store-endpoint/main';
import { useTempDirs } from '@sluice/test-support/temp-dirs';
import { type Browser, launch, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, chromiumPath } from './chromium.js';
import { answered, recordRequests, type SentRequest } from './network-log.js';
import { type PageServer, startPageServer } from './page-server.js';
import type { SentryPage } from './sentry-page.js';

const QUOTA = 5;
const BURST = 3 * QUOTA;
/** The longest window the issue allows: a burst that takes a second under load still fits in it. */
const WINDOW_SECONDS = 4;
const CADENCE_MS = 100;

/**
 * One project per window phase: windows start where `(t - organizationId mod 4)` is a multiple of
 * 4 s, so the project whose window starts at the next whole second gives the burst a whole
 * window, after a wait of at most a second.
 */
const PROJECTS = [0, 1, 2, 3].map((phase) => ({
  id: 700 + phase,
  organizationId: 9000 + phase,
  publicKeys: [`b0${phase}`.padEnd(32, '0')],
  quotas: [
    {
      id: 'e',
      scope: 'project',
      categories: ['error'],
      limit: QUOTA,
      windowSeconds: WINDOW_SECONDS,
      reasonCode: 'project_quota',
    },
  ],
}));

const tempDir = useTempDirs('sluice-browser-');
let browser: Browser;
let pageServer: PageServer;

beforeAll(async () => {
  const executablePath = chromiumPath();
  [browser, pageServer] = await Promise.all([
    launch({ executablePath, headless: true, args: CHROMIUM_ARGS }),
    startPageServer(),
  ]);
});

afterAll(async () => {
  await Promise.all([browser?.close(), pageServer?.close()]);
});

describe.each(['express', 'koa', 'fastify'] as const)(
  '@sentry/browser against the endpoint on %s',
  (framework) => {
    let endpoint: { url: string; close(): Promise<void> };
    let page: Page;
    let sent: SentRequest[] = [];

    beforeAll(async () => {
      const dir = tempDir();
      const configPath = join(dir, 'sluice.config.json');
      writeFileSync(configPath, JSON.stringify({ projects: PROJECTS }));
      endpoint = await start({
        framework,
        port: 0,
        configPath,
        output: join(dir, 'accepted.jsonl'),
      });
      const context = await browser.createBrowserContext();
      page = await context.newPage();
      sent = await recordRequests(page, endpoint.url);
      await page.goto(pageServer.url);
    });

    afterAll(async () => {
      await page?.browserContext().close();
      await endpoint?.close();
    });

    /** Calls `method` of the page's `sentryPage` with `args`, in the page. */
    const inPage = <M extends keyof SentryPage>(method: M, ...args: Parameters<SentryPage[M]>) =>
      page.evaluate(
        (name, list) => {
          type Api = Record<string, (...args: unknown[]) => unknown>;
          const api = (globalThis as unknown as { sentryPage: Api }).sentryPage;
          return api[name]!(...list);
        },
        method,
        args,
      ) as Promise<Awaited<ReturnType<SentryPage[M]>>>;

    it(`accepts exactly ${QUOTA} of a burst of ${BURST} errors, holds errors back until the retry time, then sends again`, async () => {
      const windowStart = Math.ceil(Date.now() / 1000) * 1000;
      const project = PROJECTS[(windowStart / 1000) % WINDOW_SECONDS]!;
      const stats = async () =>
        (await (await fetch(`${endpoint.url}/api/${project.id}/stats/`)).json()) as ProjectStats;
      const host = endpoint.url.slice('http://'.length);
      await inPage('init', `http://${project.publicKeys[0]}@${host}/${project.id}`);

      // The burst, at the window's start: every error is handed to the transport before any answer can arrive.
      await sleep(Math.max(0, windowStart - Date.now()));
      await inPage('burst', BURST, 'burst');
      await answered(sent);
      const burst = sent.filter((s) => s.kind === 'event');
      expect(burst).toHaveLength(BURST);
      const burstEnd = Math.max(...burst.map((s) => s.answeredAt!));
      expect(burstEnd, 'the whole burst was answered within its window').toBeLessThan(
        windowStart + WINDOW_SECONDS * 1000,
      );
      expect(burst.filter((s) => s.status === 200)).toHaveLength(QUOTA);
      const refused = burst.filter((s) => s.status === 429);
      expect(refused).toHaveLength(BURST - QUOTA);
      // The envelope content type is not CORS-safelisted: Chromium asked first, and was answered.
      const preflights = sent.filter((s) => s.kind === 'preflight');
      expect(preflights.length).toBeGreaterThan(0);
      for (const preflight of preflights) expect(preflight.status).toBe(204);
      const afterBurst = await stats();
      expect(afterBurst.accepted.error).toBe(QUOTA);
      expect(afterBurst.dropped.error?.project_quota).toBe(BURST - QUOTA);

      // The retry time the SDK read: each 429's X-Sentry-Rate-Limits seconds from its arrival.
      const retryAt = refused.map((s) => {
        expect(s.rateLimits).toMatch(/^\d+:error:project:project_quota$/);
        return s.answeredAt! + Number.parseInt(s.rateLimits!, 10) * 1000;
      });
      const earliestRetry = Math.min(...retryAt);
      const latestRetry = Math.max(...retryAt);
      expect(latestRetry - Date.now()).toBeLessThanOrEqual((WINDOW_SECONDS + 1) * 1000);

      // Feedback is another category: the SDK read the header (a bare 429 would stop everything).
      await inPage('feedback', 'still heard');
      await answered(sent);
      expect(sent.filter((s) => s.kind === 'feedback').map((s) => s.status)).toEqual([200]);

      // Errors captured every 100 ms: none is sent before the retry time; one is sent after it.
      const capturedAt: number[] = [];
      const resumed = () => sent.filter((s) => s.kind === 'event').slice(BURST);
      while (resumed().length === 0 && Date.now() < latestRetry + 2000) {
        capturedAt.push(await inPage('error', `held ${capturedAt.length}`));
        await sleep(CADENCE_MS);
      }
      await inPage('flush');
      await answered(sent);
      const [first, ...rest] = resumed();
      expect(first, 'the SDK sent an error again after the retry time').toBeDefined();
      expect(first!.sentAt).toBeGreaterThanOrEqual(earliestRetry);
      expect(first!.sentAt).toBeLessThanOrEqual(latestRetry + 1000);
      for (const later of [first!, ...rest]) expect(later.status).toBe(200);
      // The errors captured before the retry time stayed in the page: only later ones were sent.
      const held = capturedAt.filter((at) => at < earliestRetry).length;
      expect(held).toBeGreaterThanOrEqual(3);
      expect(resumed().length).toBeLessThanOrEqual(capturedAt.length - held);
      const final = await stats();
      expect(final.accepted.error).toBe(QUOTA + resumed().length);
      expect(final.dropped.error?.project_quota).toBe(BURST - QUOTA);
    });
  },
);
