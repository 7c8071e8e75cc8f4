import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import {
  freePort,
  killOnExit,
  type RedisServer,
  startRedisServer,
  waitUntilReady,
} from './redis-server.js';

const run = promisify(execFile);

/** A loopback address as ioredis's `sentinels` option takes it. */
export interface SentinelAddress {
  readonly host: string;
  readonly port: number;
}

/** A master, one replica and three Sentinels monitoring them, all started by this test run. */
export interface RedisSentinelSet {
  /** The name the Sentinels monitor the master under (ioredis's `name` option). */
  readonly masterName: string;
  readonly master: RedisServer;
  readonly replica: RedisServer;
  /** The Sentinels' addresses (ioredis's `sentinels` option). */
  readonly sentinels: SentinelAddress[];
  /** Folder holding every process's log file and the Sentinels' config files. */
  readonly dir: string;
  /** The master's port as the first Sentinel reports it now. */
  masterPort(): Promise<number>;
  /** The last lines of every process's log, for a failure message. */
  logs(): Promise<string>;
  /** Kills every process by its PID and removes the folder. */
  stop(): Promise<void>;
}

const MASTER_NAME = 'sluice';

/**
 * Starts a master, a replica of it and three Sentinels (quorum 2, master down after 1 s
 * without an answer) on free loopback ports, each with its output to a log file in a
 * temporary folder, and resolves once the replica is in sync and every Sentinel knows the
 * replica and the two other Sentinels, so a failover can start as soon as the master dies.
 */
export async function startRedisSentinelSet(): Promise<RedisSentinelSet> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-sentinel-'));
  const servers: RedisServer[] = [];
  const sentinels: ChildProcess[] = [];
  const addresses: SentinelAddress[] = [];
  const stop = async () => {
    for (const child of sentinels) {
      if (child.exitCode === null && child.signalCode === null) {
        process.kill(child.pid!, 'SIGKILL');
        await once(child, 'exit');
      }
    }
    await Promise.all(servers.map((s) => s.stop()));
    await rm(dir, { recursive: true, force: true });
  };
  const logs = async () => {
    const names = ['master', 'replica', 'sentinel-0', 'sentinel-1', 'sentinel-2'];
    const parts = await Promise.all(
      names.map(async (name) => {
        const text = await readFile(join(dir, `${name}.log`), 'utf8').catch(() => '');
        return `--- ${name}\n${text.split('\n').slice(-15).join('\n')}`;
      }),
    );
    return parts.join('\n');
  };
  try {
    const master = await startRedisServer([
      '--logfile',
      join(dir, 'master.log'),
      '--dir',
      dir,
      '--repl-diskless-sync-delay',
      '0',
    ]);
    servers.push(master);
    const replica = await startRedisServer([
      '--logfile',
      join(dir, 'replica.log'),
      '--dir',
      dir,
      '--replicaof',
      '127.0.0.1',
      String(master.port),
    ]);
    servers.push(replica);
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const config = join(dir, `sentinel-${i}.conf`);
      await writeFile(
        config,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `logfile ${join(dir, `sentinel-${i}.log`)}`,
          `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${master.port} 2`,
          `sentinel down-after-milliseconds ${MASTER_NAME} 1000`,
          `sentinel failover-timeout ${MASTER_NAME} 10000`,
          `sentinel parallel-syncs ${MASTER_NAME} 1`,
          '',
        ].join('\n'),
      );
      const child = spawn('redis-server', [config, '--sentinel'], { stdio: 'ignore' });
      killOnExit(child);
      sentinels.push(child);
      await waitUntilReady(port, child, () => `see ${join(dir, `sentinel-${i}.log`)}`);
      addresses.push({ host: '127.0.0.1', port });
    }
    await waitForTopology(replica.port, addresses);
    return {
      masterName: MASTER_NAME,
      master,
      replica,
      sentinels: addresses,
      dir,
      async masterPort() {
        const { stdout } = await run('redis-cli', [
          '-p',
          String(addresses[0]!.port),
          'sentinel',
          'get-master-addr-by-name',
          MASTER_NAME,
        ]);
        return Number(stdout.trim().split('\n')[1]);
      },
      logs,
      stop,
    };
  } catch (error) {
    const text = await logs();
    await stop();
    throw new Error(`the Sentinel set did not start: ${String(error)}\n${text}`);
  }
}

async function cli(port: number, ...args: string[]): Promise<string> {
  return (await run('redis-cli', ['-p', String(port), ...args])).stdout;
}

/** Sentinels discover each other through the master's hello channel, every 2 s. */
async function waitForTopology(replicaPort: number, sentinels: SentinelAddress[]): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const synced = (await cli(replicaPort, 'info', 'replication')).includes(
      'master_link_status:up',
    );
    const known = await Promise.all(
      sentinels.map(async ({ port }) => {
        const master = await cli(port, 'sentinel', 'master', MASTER_NAME);
        const lines = master.trim().split('\n');
        const field = (name: string) => Number(lines[lines.indexOf(name) + 1]);
        return field('num-slaves') >= 1 && field('num-other-sentinels') >= 2;
      }),
    );
    if (synced && known.every(Boolean)) return;
    await sleep(100);
  }
  throw new Error('the replica and Sentinels did not see each other within 20 s');
}
