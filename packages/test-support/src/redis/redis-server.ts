import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** A redis-server this test run started; `stop()` kills it. */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

const INSTALL_HINT =
  'redis-server was not found on PATH and REDIS_URL is not set. The Redis suites need a real ' +
  'server: install it (Debian/Ubuntu: `apt-get install redis-server`, macOS: `brew install redis`) ' +
  'or point REDIS_URL at one (redis://127.0.0.1:6379).';

/** Throws with install instructions unless `redis-server` and `redis-cli` are on PATH. */
export function assertRedisInstalled(): void {
  for (const binary of ['redis-server', 'redis-cli']) {
    try {
      execFileSync(binary, ['--version'], { stdio: 'ignore' });
    } catch {
      throw new Error(INSTALL_HINT);
    }
  }
}

/** True when nothing listens on `port` of the loopback interface. */
export async function isPortFree(port: number): Promise<boolean> {
  const server = createServer();
  try {
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    return true;
  } catch {
    return false;
  } finally {
    server.close();
  }
}

/** A free loopback port below 55536 whose port + 10000 (the cluster bus) is free too. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 35000);
    if ((await isPortFree(port)) && (await isPortFree(port + 10000))) return port;
  }
  throw new Error('no free loopback port found for redis-server');
}

/** Servers this process started and has not seen exit: killed when it exits, however it ends. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Kills `child` (a redis-server started some other way, e.g. a Sentinel) when this process exits. */
export function killOnExit(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
}

/**
 * Starts `redis-server` without persistence on a free loopback port (or `port`, to restart a
 * killed one in place) and waits until it answers.
 */
export async function startRedisServer(
  extraArgs: string[] = [],
  port?: number,
): Promise<RedisServer> {
  assertRedisInstalled();
  if (port === undefined) port = await freePort();
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      ...extraArgs,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  killOnExit(child);
  await waitUntilReady(port, child, () => output);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await once(child, 'exit');
    },
  };
}

/** Waits until `redis-cli -p port ping` answers PONG; kills `child` and throws after 10 s. */
export async function waitUntilReady(
  port: number,
  child: ChildProcess,
  output: () => string,
): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited: ${output()}`);
    try {
      const pong = execFileSync('redis-cli', ['-p', String(port), 'ping'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      if (pong.trim() === 'PONG') return;
    } catch {
      // not listening yet
    }
    await sleep(25);
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server on port ${port} did not start within 10 s: ${output()}`);
}
