// The example endpoint as a browser meets it: CORS on every answer (preflight, 200, 429, 400,
// 401, 403) through each framework's own CORS middleware, span containers counted by
// item_count, and the same routes in any letter case with or without the trailing slash.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CORS_POLICY } from '@sluice/example-store-endpoint/cors-policy';
import type { ProjectStats } from '@sluice/example-store-endpoint/ingest-log';
import { start } from '@sluice/example-store-endpoint/main';
import { useTempDirs } from '@sluice/test-support/temp-dirs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const KEY = 'c0a1b2c3d4e5f60718293a4b5c6d7e8f';
const PROJECT = 42;
const ERROR_LIMIT = 2;
const SPAN_LIMIT = 3;
const PAGE_ORIGIN = 'http://page.example.test:8080';

const tempDir = useTempDirs('sluice-cors-');

function writeConfig(): string {
  const path = join(tempDir(), 'sluice.config.json');
  const quota = (id: string, category: string, limit: number) => ({
    id,
    scope: 'project',
    categories: [category],
    limit,
    windowSeconds: 3600,
    reasonCode: `${category}_quota`,
  });
  const project = {
    id: PROJECT,
    organizationId: 7,
    publicKeys: [KEY],
    quotas: [quota('e', 'error', ERROR_LIMIT), quota('s', 'span', SPAN_LIMIT)],
  };
  writeFileSync(path, JSON.stringify({ projects: [project] }));
  return path;
}

/** An envelope of one span container holding `spans` spans and saying it holds `itemCount`. */
function spanEnvelope(spans: number, itemCount: number = spans): string {
  const payload = JSON.stringify({
    version: 2,
    items: Array.from({ length: spans }, (_, i) => ({ span_id: `${i}`.padStart(16, '0') })),
  });
  const header = {
    type: 'span',
    item_count: itemCount,
    content_type: 'application/vnd.sentry.items.span.v2+json',
    length: Buffer.byteLength(payload),
  };
  return `{}\n${JSON.stringify(header)}\n${payload}\n`;
}

const eventEnvelope = (id: string) =>
  `${JSON.stringify({ event_id: id })}\n{"type":"event"}\n${JSON.stringify({ event_id: id })}\n`;

/** A header's comma-separated names, lower-cased. */
const names = (value: string | null) =>
  (value ?? '').split(',').map((name) => name.trim().toLowerCase());

/** Every answer a page may read: any origin, and the three headers the SDK reads exposed. */
function expectReadableByPages(res: Response): void {
  expect(res.headers.get('access-control-allow-origin')).toBe('*');
  const exposed = names(res.headers.get('access-control-expose-headers'));
  for (const header of CORS_POLICY.exposedHeaders) expect(exposed).toContain(header);
}

describe.each(['express', 'koa', 'fastify'] as const)('the example endpoint on %s', (framework) => {
  let url: string;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ url, close } = await start({
      framework,
      port: 0,
      configPath: writeConfig(),
      output: join(tempDir(), 'accepted.jsonl'),
    }));
  });
  afterAll(() => close?.());

  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${url}${path}`, {
      method: 'POST',
      headers: { origin: PAGE_ORIGIN, 'content-type': 'text/plain;charset=UTF-8', ...headers },
      body,
    });
  const stats = async () =>
    (await (await fetch(`${url}/api/${PROJECT}/stats/`)).json()) as ProjectStats;

  // The tests of one framework run in order and share the quotas: errors, then spans.

  it.each([
    `/api/${PROJECT}/envelope/`,
    `/api/${PROJECT}/store`,
    `/API/${PROJECT}/ENVELOPE`,
    `/Api/${PROJECT}/Store/`,
  ])('answers the preflight of %s as Relay does, counting nothing', async (path) => {
    const res = await fetch(`${url}${path}?sentry_key=${KEY}`, {
      method: 'OPTIONS',
      headers: {
        origin: PAGE_ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-sentry-auth,content-encoding',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(names(res.headers.get('access-control-allow-methods'))).toContain('post');
    const allowed = names(res.headers.get('access-control-allow-headers'));
    for (const header of ['x-sentry-auth', 'content-type', 'content-encoding']) {
      expect(allowed).toContain(header);
    }
    expect(res.headers.get('access-control-max-age')).toBe(String(CORS_POLICY.maxAgeSeconds));
    expect(await stats()).toEqual({ accepted: {}, dropped: {} });
  });

  it('accepts errors up to the quota from any path spelling, then answers 429, all readable by pages', async () => {
    const accepted = [
      await post(`/API/${PROJECT}/Store?sentry_key=${KEY}`, '{"event_id":"a1"}'),
      await post(`/api/${PROJECT}/envelope?sentry_key=${KEY}`, eventEnvelope('a2')),
    ];
    for (const res of accepted) {
      expect(res.status).toBe(200);
      expectReadableByPages(res);
    }
    const refused = await post(`/api/${PROJECT}/ENVELOPE/?sentry_key=${KEY}`, eventEnvelope('a3'));
    expect(refused.status).toBe(429);
    expectReadableByPages(refused);
    expect(refused.headers.get('x-sentry-rate-limits')).toMatch(/^\d+:error:project:error_quota$/);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    const counted = await stats();
    expect(counted.accepted.error).toBe(ERROR_LIMIT);
    expect(counted.dropped.error?.error_quota).toBe(1);
  });

  it.each([
    ['a body that is not an envelope (400)', `/api/${PROJECT}/envelope/?sentry_key=${KEY}`, 400],
    ['a project id that is not a number (400)', `/api/abc/store/?sentry_key=${KEY}`, 400],
    ['no public key (401)', `/api/${PROJECT}/store/`, 401],
    ['an unknown public key (401)', `/api/${PROJECT}/store/?sentry_key=${'f'.repeat(32)}`, 401],
    ['a key of another project (403)', `/api/999/store/?sentry_key=${KEY}`, 403],
    ['a key of another project, path in capitals (403)', `/API/999/STORE?sentry_key=${KEY}`, 403],
  ])('refuses %s readably by pages', async (_what, path, status) => {
    const body = status === 400 && path.includes('envelope') ? 'not an envelope' : '{}';
    const res = await post(path, body);
    expect(res.status).toBe(status);
    expectReadableByPages(res);
    expect(res.headers.get('x-sentry-error')).toBeTruthy();
  });

  it('counts a span container by its item_count, as Relay does', async () => {
    const first = await post(`/api/${PROJECT}/envelope/?sentry_key=${KEY}`, spanEnvelope(2));
    expect(first.status).toBe(200);
    expect((await stats()).accepted.span).toBe(2);
    // 2 + 2 spans exceed the quota of 3: the second container is refused whole.
    const second = await post(`/api/${PROJECT}/envelope/?sentry_key=${KEY}`, spanEnvelope(2));
    expect(second.status).toBe(429);
    expectReadableByPages(second);
    expect(second.headers.get('x-sentry-rate-limits')).toMatch(/^\d+:span:project:span_quota$/);
    const one = await post(`/api/${PROJECT}/envelope/?sentry_key=${KEY}`, spanEnvelope(1));
    expect(one.status).toBe(200);
    const counted = await stats();
    expect(counted.accepted.span).toBe(SPAN_LIMIT);
    expect(counted.dropped.span?.span_quota).toBe(2);
  });

  it.each([
    ['says fewer items than it holds', spanEnvelope(3, 1)],
    ['says more items than it holds', spanEnvelope(1, 3)],
    ['has no item_count', spanEnvelope(2).replace('"item_count":2,', '')],
    ['has a negative item_count', spanEnvelope(1).replace('"item_count":1', '"item_count":-1')],
  ])('refuses a span container that %s with 400', async (_what, body) => {
    const res = await post(`/api/${PROJECT}/envelope/?sentry_key=${KEY}`, body);
    expect(res.status).toBe(400);
    expectReadableByPages(res);
    expect(res.headers.get('x-sentry-error')).toMatch(/item_count/);
  });
});
