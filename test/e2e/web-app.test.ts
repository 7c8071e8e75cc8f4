import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Smoke test of examples/web-app, run as a user runs it (`npm run web-app -- --framework X`,
// the built example in its own process): sluice over the whole app, on one route, and by the
// quota() decorator on a class-based controller, on Express, Koa and Fastify.

const require = createRequire(import.meta.url);
/** The example's folder, found by its package name. */
const example = dirname(require.resolve('@sluice/example-web-app/package.json'));

beforeAll(() => {
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-b', example], {
    stdio: 'inherit',
  });
}, 120_000);

describe.each(['express', 'koa', 'fastify'] as const)('examples/web-app on %s', (framework) => {
  let app: ChildProcess;
  let url: string;
  beforeAll(async () => {
    app = spawn(process.execPath, [`${example}/dist/main.js`, '--framework', framework], {
      env: { ...process.env, PORT: '0' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    // Keep reading stdout to the end (breaking out of it would close the pipe under the app).
    let out = '';
    url = await new Promise<string>((resolve, reject) => {
      app.stdout!.on('data', (chunk: Buffer) => {
        out += String(chunk);
        const found = /listening on (http:\/\/\S+)/.exec(out);
        if (found) resolve(found[1]!);
      });
      app.once('exit', (code) => reject(new Error(`web-app exited ${code}: ${out}`)));
    });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });
  afterAll(async () => {
    if (app.exitCode === null) {
      app.kill();
      await once(app, 'exit');
    }
  });

  const call = (path: string, key: string | undefined, body?: unknown) =>
    fetch(`${url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: {
        ...(key === undefined ? {} : { 'x-api-key': key }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  /**
   * Seconds until the window of `policy` ends, from a response's IETF `RateLimit` header (the
   * app sends them): `"api";r=29;t=33, "team";r=99;t=33`.
   */
  const secondsLeft = (res: Response, policy: string): number => {
    const found = new RegExp(`"${policy}";r=\\d+;t=(\\d+)`).exec(
      res.headers.get('ratelimit') ?? '',
    );
    expect(found, `RateLimit header: ${res.headers.get('ratelimit')}`).not.toBeNull();
    return Number(found![1]);
  };
  /**
   * Waits, when the minute windows of team acme (alice's and bob's) end within 5 s, until the
   * next one starts, so a burst that follows never straddles two windows.
   */
  const clearOfMinuteEnd = async () => {
    const left = secondsLeft(await call('/notes', 'key-alice'), 'api');
    if (left <= 5) await new Promise((resolve) => setTimeout(resolve, (left + 1) * 1000));
  };

  it('app.use(): /health is skipped, an unknown key is a 401, a known one passes', async () => {
    expect((await call('/health', undefined)).status).toBe(200);
    const anonymous = await call('/notes', undefined);
    expect(anonymous.status).toBe(401);
    expect((await call('/notes', 'key-nobody')).status).toBe(401);
    const listed = await call('/notes', 'key-carol');
    expect(listed.status).toBe(200);
    expect(await listed.json()).toEqual([]);
  });

  it('the quota() decorator: 5 notes a minute per account, then a 429 with Retry-After; other accounts unaffected', async () => {
    await clearOfMinuteEnd();
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++)
      statuses.push((await call('/notes', 'key-alice', { text: `n${i}` })).status);
    expect(statuses).toEqual([201, 201, 201, 201, 201]);
    const refused = await call('/notes', 'key-alice', { text: 'one more' });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused.headers.get('x-sentry-rate-limit-reason')).toBe('note_quota');
    // The app's own refusal body (onLimited), inherited by the decorated method's stage.
    expect(await refused.json()).toEqual({
      error: 'too_many_requests',
      reason: 'note_quota',
      retryAfterSeconds: Number(refused.headers.get('retry-after')),
    });
    expect(refused.headers.get('ratelimit-policy')).toBe('"notes";q=5;w=60');
    expect((await (await call('/notes', 'key-alice')).json()) as unknown[]).toHaveLength(5);
    expect((await call('/notes', 'key-bob', { text: 'mine' })).status).toBe(201);
    // The handler still answers the app's own errors.
    expect((await call('/notes', 'key-bob', { text: '' })).status).toBe(400);
  });

  it('a route of its own: one export at a time, 3 an hour per account', async () => {
    const together = await Promise.all([
      call('/exports', 'key-carol', {}),
      call('/exports', 'key-carol', {}),
    ]);
    expect(together.map((r) => r.status).sort()).toEqual([200, 429]);
    const refused = together.find((r) => r.status === 429)!;
    expect(refused.headers.get('x-sentry-rate-limit-reason')).toBe('concurrency_limit');
    // Rarely, the hour of team globex ends right now: then the next hour has all 3 again.
    const admitted = together.find((r) => r.status === 200)!;
    const hourLeft = secondsLeft(admitted, 'exports');
    let more = 2;
    if (hourLeft <= 5) {
      await new Promise((resolve) => setTimeout(resolve, (hourLeft + 1) * 1000));
      more = 3;
    }
    for (let i = 0; i < more; i++)
      expect((await call('/exports', 'key-carol', {})).status).toBe(200);
    const fourth = await call('/exports', 'key-carol', {});
    expect(fourth.status).toBe(429);
    expect(fourth.headers.get('x-sentry-rate-limit-reason')).toBe('export_quota');
    // The hour ends where the team's shifted window ends: anywhere from 1 s to an hour away.
    const retryAfter = Number(fourth.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(3600);
  });

  it('app.use(): 30 requests a minute per API key over every route', async () => {
    await clearOfMinuteEnd();
    // key-bob's own counter, independent of alice's: whatever it used this minute, it gets the
    // rest of its 30, then 429s.
    const first = await call('/notes', 'key-bob');
    expect(first.status).toBe(200);
    const left = Number(/"api";r=(\d+)/.exec(first.headers.get('ratelimit')!)![1]);
    expect(left).toBeLessThan(30);
    const statuses: number[] = [];
    for (let i = 0; i <= left; i++) statuses.push((await call('/notes', 'key-bob')).status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(left);
    expect(statuses.at(-1)).toBe(429);
    const refused = await call('/notes', 'key-bob');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('x-sentry-rate-limit-reason')).toBe('api_key_rate');
  });
});
