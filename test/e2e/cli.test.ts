import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { Lockout, type LockoutOptions, type Project, type QuotaConfig, Quotas } from '@sluice/core';
import { RedisStore } from '@sluice/core/redis';
import { periodicBoundaries } from '@sluice/test-support/models';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

// The operators' CLI, run as the real binary (the `bin` of @sluice/core, built) against the
// real Redis and Cluster the test run started, on counters a real `Quotas` engine wrote.

const require = createRequire(import.meta.url);
/** @sluice/core's folder, found by name as an app finds it. */
const core = `${dirname(require.resolve('@sluice/core/package.json'))}/`;
const bin = `${core}${(JSON.parse(readFileSync(`${core}package.json`, 'utf8')) as { bin: { sluice: string } }).bin.sluice}`;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

function sluice(...args: string[]): Promise<Run> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { timeout: 20_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

const project: Project = { id: 42, organizationId: 7 };
const neighbour: Project = { id: 420, organizationId: 7 };
/**
 * Where the windows of these tests start: those of `configs` for organization 7 (shifted 7 s,
 * in both) and the global quota's (on the minute). A test starts at least
 * {@link WINDOW_MARGIN_MS} before the next one, so the counters it fills are still the current
 * ones when the CLI reads or clears them and the engine decides again.
 */
const windowStarts = periodicBoundaries([
  { periodMs: 60_000, offsetMs: 7000 },
  { periodMs: 3_600_000, offsetMs: 7000 },
  { periodMs: 60_000 },
]);
const WINDOW_MARGIN_MS = 10_000;

/** Waits, when a window starts within {@link WINDOW_MARGIN_MS}, until it has started. */
async function clearOfWindowStarts(): Promise<void> {
  const now = Date.now();
  const start = windowStarts(now, now + WINDOW_MARGIN_MS);
  if (start !== undefined) await new Promise((r) => setTimeout(r, start - now + 100));
}
const configs: QuotaConfig[] = [
  { id: 'p', scope: 'project', limit: 5, windowSeconds: 60, reasonCode: 'project_quota' },
  { id: 'k', scope: 'key', limit: 3, windowSeconds: 60, reasonCode: 'key_quota' },
  { id: 'o', limit: 100, windowSeconds: 3600, reasonCode: 'org_quota' },
];

interface JsonWindow {
  organization: string;
  quota: string;
  scope: string;
  id: string;
  windowSeconds: number;
  current: boolean;
  used: number;
  refunded: number;
  net: number;
  expiresInMs: number;
  keys: string[];
}

const windowsOf = (run: Run) => (JSON.parse(run.stdout) as { windows: JsonWindow[] }).windows;

interface JsonLockout {
  key: string;
  blocked: boolean;
  retryAfter: number;
  offences: number;
  refusals: number;
  lifted?: boolean;
}

const lockoutOf = (run: Run) => (JSON.parse(run.stdout) as { lockout: JsonLockout }).lockout;

/** Two refusals within a minute block a key for a minute. */
const lockoutOptions: LockoutOptions = { after: 2, withinSeconds: 60, blockSeconds: 60 };

let sequence = 0;

beforeAll(() => {
  // The binary runs from dist: build core so it is the code under test, not a stale build.
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-b', core], {
    stdio: 'inherit',
  });
}, 120_000);

describe.each(['redis', 'cluster'] as const)('sluice inspect|reset on %s', (kind) => {
  let client: Redis | Cluster;
  let url: string;
  beforeAll(() => {
    const nodes = inject('clusterNodes');
    url = kind === 'redis' ? inject('redisUrl') : `redis://${nodes[0]!.host}:${nodes[0]!.port}`;
    client =
      kind === 'redis'
        ? new Redis(url, { maxRetriesPerRequest: 1 })
        : new Cluster(nodes, { redisOptions: { maxRetriesPerRequest: 1 } });
  });
  afterAll(() => client.disconnect());

  /** An engine on its own prefix, with `n` requests of `p` (and of `key`) admitted. */
  async function engine(requests: Array<[Project, number, string?]>) {
    await clearOfWindowStarts();
    const prefix = `cli${++sequence}-${kind}`;
    const quotas = new Quotas({
      store: new RedisStore(client, { prefix }),
      getQuotas: () => configs,
    });
    for (const [p, n, key] of requests) {
      for (let i = 0; i < n; i++) await quotas.isRateLimited(p, { key });
    }
    return { quotas, prefix };
  }

  it("inspect prints, as JSON, what the project's counters hold, matching Quotas.getUsage, and no other project's", async () => {
    const { quotas, prefix } = await engine([
      [project, 4],
      [neighbour, 2],
    ]);
    await quotas.refund(project);
    const run = await sluice(
      'inspect',
      '--redis',
      url,
      '--project',
      '42',
      '--prefix',
      prefix,
      '--json',
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const windows = windowsOf(run);
    expect(windows.map((w) => [w.scope, w.quota, w.id, w.used, w.refunded, w.net])).toEqual([
      ['project', 'p', '42', 4, 1, 3],
    ]);
    expect(windows[0]!.current).toBe(true);
    expect(windows[0]!.expiresInMs).toBeGreaterThan(0);
    expect(windows[0]!.expiresInMs).toBeLessThanOrEqual(61_000 + 60_000);
    const usage = await quotas.getUsage(project);
    expect(usage.find((u) => u.quota.id === 'p')!.used).toBe(windows[0]!.net);

    // With the organization, its shared counter is listed too: both projects' requests.
    const withOrg = await sluice(
      'inspect',
      '--redis',
      url,
      '--project',
      '42',
      '--organization',
      '7',
      '--prefix',
      prefix,
      '--json',
    );
    expect(windowsOf(withOrg).map((w) => [w.scope, w.quota, w.net])).toEqual([
      ['organization', 'o', 5],
      ['project', 'p', 3],
    ]);
  });

  it('inspect prints a readable table, current window marked', async () => {
    const { prefix } = await engine([[project, 2]]);
    const run = await sluice(
      'inspect',
      '--redis',
      url,
      '--project',
      '42',
      '--organization',
      '7',
      '--prefix',
      prefix,
    );
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^Found 2 counter window\(s\) at Redis time \d{4}-\d\d-\d\dT/);
    expect(lines[1]).toMatch(
      /^organization\s+quota\s+scope\s+id\s+window\s+from \(UTC\)\s+to \(UTC\)\s+used\s+refunded\s+net\s+expires in$/,
    );
    expect(lines[2]).toMatch(
      /^7\s+o\s+organization\s+7\s+3600 s\s+\S+Z \*\s+\S+Z\s+2\s+0\s+2\s+\d+ s$/,
    );
    expect(lines[3]).toMatch(/^7\s+p\s+project\s+42\s+60 s\s+\S+Z \*\s+\S+Z\s+2\s+0\s+2\s+\d+ s$/);
    const empty = await sluice('inspect', '--redis', url, '--project', '999', '--prefix', prefix);
    expect(empty.code).toBe(0);
    expect(empty.stdout).toMatch(
      /^No counters found \(Redis time .+\)\.\nLockout of 999: not blocked, 0 offence\(s\), 0 refusal\(s\) kept\.\n$/,
    );
  });

  it("reset clears the project's counters, so the engine admits it again, and leaves the organization's and the neighbour's", async () => {
    const { quotas, prefix } = await engine([
      [project, 5],
      [neighbour, 5],
    ]);
    expect((await quotas.isRateLimited(project)).isLimited).toBe(true);
    const run = await sluice(
      'reset',
      '--redis',
      url,
      '--project',
      '42',
      '--prefix',
      prefix,
      '--json',
    );
    expect(run.code).toBe(0);
    expect(windowsOf(run).map((w) => [w.scope, w.quota, w.id, w.net])).toEqual([
      ['project', 'p', '42', 5],
    ]);
    for (const key of windowsOf(run)[0]!.keys) expect(await client.exists(key)).toBe(0);

    // A rejection cache (1 s by default) may remember the refusal: past it, 5 more are admitted.
    await new Promise((r) => setTimeout(r, 1100));
    for (let i = 0; i < 5; i++) expect((await quotas.isRateLimited(project)).isLimited).toBe(false);
    expect((await quotas.isRateLimited(project)).isLimited).toBe(true);
    expect((await quotas.isRateLimited(neighbour)).isLimited).toBe(true);
    const org = (await quotas.getUsage(project)).find((u) => u.quota.id === 'o')!;
    expect(org.used).toBe(15);

    const again = await sluice('reset', '--redis', url, '--project', '42', '--prefix', prefix);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^Deleted 1 counter window\(s\)/);
    expect(again.stdout).toMatch(/\nNo lockout of 42 to lift\.\n$/);
  });

  it('reset --key clears that key only; --include-organization clears the shared counters too', async () => {
    const { quotas, prefix } = await engine([
      [project, 3, 'alice'],
      [project, 1, 'bob'],
    ]);
    const keyReset = await sluice(
      'reset',
      '--redis',
      url,
      '--project',
      '42',
      '--key',
      'alice',
      '--prefix',
      prefix,
      '--json',
    );
    expect(windowsOf(keyReset).map((w) => [w.scope, w.id, w.net])).toEqual([['key', 'alice', 3]]);
    const usage = await quotas.getUsage(project, { key: 'bob' });
    expect(usage.map((u) => [u.quota.id, u.used])).toEqual([
      ['p', 4],
      ['k', 1],
      ['o', 4],
    ]);
    const all = await sluice(
      'reset',
      '--redis',
      url,
      '--project',
      '42',
      '--organization',
      '7',
      '--include-organization',
      '--prefix',
      prefix,
      '--json',
    );
    expect(windowsOf(all).map((w) => [w.scope, w.quota, w.net])).toEqual([
      ['organization', 'o', 4],
      ['project', 'p', 4],
    ]);
    expect((await quotas.getUsage(project)).map((u) => u.used)).toEqual([0, 0]);
  });

  it('--include-global lists and clears the global quotas counters, which a plain reset leaves', async () => {
    await clearOfWindowStarts();
    const prefix = `cli${++sequence}-${kind}`;
    const global: QuotaConfig = {
      id: 'all',
      scope: 'global',
      limit: 1000,
      windowSeconds: 60,
      reasonCode: 'global_quota',
    };
    const quotas = new Quotas({
      store: new RedisStore(client, { prefix }),
      getQuotas: () => [...configs, global],
    });
    for (let i = 0; i < 3; i++) await quotas.isRateLimited(project);
    const options = ['--redis', url, '--project', '42', '--prefix', prefix, '--json'];
    const plain = await sluice('inspect', ...options);
    expect(windowsOf(plain).map((w) => w.scope)).toEqual(['project']);
    const inspect = await sluice('inspect', ...options, '--include-global');
    const found = windowsOf(inspect).filter((w) => w.scope === 'global');
    expect(found.map((w) => [w.quota, w.id, w.current])).toEqual([['all', '', true]]);
    // The counter holds what was spent and what this engine's slice holds.
    const usage = (await quotas.getUsage(project)).find((u) => u.quota.id === 'all')!;
    expect(usage.used).toBe(3);
    expect(found[0]!.net).toBe(usage.used! + usage.held!);
    const reset = await sluice('reset', ...options, '--include-global');
    expect(windowsOf(reset).map((w) => [w.scope, w.quota])).toEqual([
      ['global', 'all'],
      ['project', 'p'],
    ]);
    // Another process (an engine on its own store object, holding no slice) sees it cleared.
    const other = new Quotas({
      store: new RedisStore(client, { prefix }),
      getQuotas: () => [global],
    });
    expect((await other.getUsage(project)).map((u) => [u.used, u.held])).toEqual([[0, 0]]);
  });

  it('inspect shows the lockout the engine holds for the project (or --key); reset lifts it, unless --keep-lockout', async () => {
    const prefix = `cli${++sequence}-${kind}`;
    const lockout = new Lockout(new RedisStore(client, { prefix }), lockoutOptions);
    for (const key of ['42', '42', '420', 'alice']) await lockout.recordRefusal(key);
    const options = ['--redis', url, '--project', '42', '--prefix', prefix];

    const inspect = await sluice('inspect', ...options, '--json');
    expect(inspect.stderr).toBe('');
    expect(windowsOf(inspect)).toEqual([]);
    const shown = lockoutOf(inspect);
    expect(shown).toEqual({
      key: '42',
      blocked: true,
      retryAfter: shown.retryAfter,
      offences: 1,
      refusals: 0,
    });
    expect(shown.retryAfter).toBeGreaterThan(50);
    expect(shown.retryAfter).toBeLessThanOrEqual(60);

    // --key names the lockout key an app's `lockout.key` gives; --keep-lockout shows it, no more.
    const kept = await sluice('reset', ...options, '--key', 'alice', '--keep-lockout', '--json');
    expect(lockoutOf(kept)).toEqual({
      key: 'alice',
      blocked: false,
      retryAfter: 0,
      offences: 0,
      refusals: 1,
      lifted: false,
    });
    expect((await lockout.inspect('alice')).refusals).toBe(1);

    const reset = await sluice('reset', ...options);
    expect(reset.code).toBe(0);
    expect(reset.stdout).toMatch(
      /\nLifted the lockout of 42 \(it held: blocked for (5\d|60) s, 1 offence\(s\), 0 refusal\(s\) kept\)\.\n$/,
    );
    // Another process (its own engine, no memory of the block) is answered 0 by the store; the
    // engine that saw the block reads the store too, and finds no offence left.
    const other = new Lockout(new RedisStore(client, { prefix }), lockoutOptions);
    expect(await other.blocked('42')).toBe(0);
    expect(await lockout.inspect('42')).toMatchObject({ blocked: false, offences: 0, refusals: 0 });
    // The neighbour's refusal is its own.
    expect((await other.inspect('420')).refusals).toBe(1);
  });

  it('ids that are not plain (separators, braces, control characters) are found, and printed escaped', async () => {
    const hostile = { id: 'a:b}{\u001b[31m\n', organizationId: 'org {x}' };
    const { prefix } = await engine([
      [hostile, 2],
      [{ id: 'a', organizationId: 'org {x}' }, 1],
    ]);
    const json = await sluice(
      'inspect',
      '--redis',
      url,
      '--project',
      hostile.id,
      '--organization',
      hostile.organizationId,
      '--prefix',
      prefix,
      '--json',
    );
    expect(json.code).toBe(0);
    expect(windowsOf(json).map((w) => [w.organization, w.scope, w.id, w.net])).toEqual([
      ['org {x}', 'organization', 'org {x}', 3],
      ['org {x}', 'project', hostile.id, 2],
    ]);
    const table = await sluice(
      'inspect',
      '--redis',
      url,
      '--project',
      hostile.id,
      '--prefix',
      prefix,
    );
    expect(table.code).toBe(0);
    expect(table.stdout).not.toContain('\u001b');
    expect(table.stdout).toContain(JSON.stringify(hostile.id));
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[3]).toBe(
      `Lockout of ${JSON.stringify(hostile.id)}: not blocked, 0 offence(s), 0 refusal(s) kept.`,
    );
  });
});

describe('sluice: bad arguments and a failing Redis', () => {
  it.each([
    [[], 'a command is required'],
    [['inspekt', '--redis', 'redis://x', '--project', '1'], 'unknown command "inspekt"'],
    [['inspect', '--project', '1'], '--redis is required'],
    [
      ['inspect', '--redis', 'http://x', '--project', '1'],
      '--redis must be a redis:// or rediss:// URL',
    ],
    [['inspect', '--redis', 'redis://x'], '--project is required'],
    [['inspect', '--redis', 'redis://x', '--project', ''], '--project must not be empty'],
    [
      ['inspect', '--redis', 'redis://x', '--project', '1', '--projekt', '2'],
      "Unknown option '--projekt'",
    ],
    [
      ['inspect', '--redis', 'redis://x', '--project'],
      "Option '--project <value>' argument missing",
    ],
    [
      ['inspect', '--redis', 'redis://x', '--project', '1', '--timeout', '0'],
      '--timeout must be whole milliseconds',
    ],
    [
      ['inspect', '--redis', 'redis://x', '--project', '1', '--timeout', '1e3'],
      '--timeout must be whole milliseconds',
    ],
    [
      ['inspect', '--redis', 'redis://x', '--project', '1', '--prefix', 'a{b'],
      '--prefix must be non-empty',
    ],
    [
      ['inspect', '--redis', 'redis://x', '--project', '1', '--include-organization'],
      '--include-organization applies to reset only',
    ],
    [
      ['reset', '--redis', 'redis://x', '--project', '1', '--include-organization'],
      '--include-organization needs --organization',
    ],
    [['inspect', 'reset', '--redis', 'redis://x', '--project', '1'], 'one command expected'],
    [
      ['inspect', '--redis', 'redis://x', '--project', '1', '--keep-lockout'],
      '--keep-lockout applies to reset only',
    ],
  ])('%j: exit 2, the reason and a usage line, no stack trace', async (args, reason) => {
    const run = await sluice(...args);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`sluice: ${reason}`);
    expect(run.stderr).toContain('Usage: sluice <inspect|reset> --redis URL --project ID');
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('--help prints every option and exits 0', async () => {
    const run = await sluice('--help');
    expect(run.code).toBe(0);
    for (const option of [
      '--redis',
      '--project',
      '--organization',
      '--key',
      '--include-organization',
      '--keep-lockout',
      '--prefix',
      '--timeout',
      '--json',
    ]) {
      expect(run.stdout).toContain(option);
    }
  });

  it('a Redis that refuses the connection: exit 1, the reason, the password hidden', async () => {
    const closed = await closedPort();
    const run = await sluice(
      'inspect',
      '--redis',
      `redis://user:hunter2@127.0.0.1:${closed}`,
      '--project',
      '1',
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `sluice: Redis at redis://user:***@127.0.0.1:${closed} failed: connect ECONNREFUSED 127.0.0.1:${closed}\n`,
    );
  });

  it('a Redis that accepts but never answers: exit 1 within about --timeout', async () => {
    const silent = await silentServer();
    try {
      const run = await sluice(
        'inspect',
        '--redis',
        `redis://127.0.0.1:${silent.port}`,
        '--project',
        '1',
        '--timeout',
        '300',
      );
      expect(run.code).toBe(1);
      expect(run.stderr).toBe(
        `sluice: Redis at redis://127.0.0.1:${silent.port} failed: no answer within 300 ms\n`,
      );
      // Node's start and ioredis's import take most of it; the wait itself is 300 ms.
      expect(run.ms).toBeLessThan(5000);
    } finally {
      silent.close();
    }
  });
});

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/** A TCP server that accepts connections and never writes: a hung Redis. */
async function silentServer(): Promise<{ port: number; close(): void }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    close() {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}
