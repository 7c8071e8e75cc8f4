import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { type RedisServer, startRedisServer } from './redis-server.js';

const run = promisify(execFile);

/** A local Redis Cluster of masters only, started by this test run. */
export interface RedisCluster {
  readonly nodes: RedisServer[];
  readonly startupNodes: Array<{ host: string; port: number }>;
  stop(): Promise<void>;
}

/**
 * Starts `size` `redis-server --cluster-enabled yes` nodes and joins them with
 * `redis-cli --cluster create`, then waits until every node reports `cluster_state:ok`.
 */
export async function startRedisCluster(size = 3): Promise<RedisCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-cluster-'));
  const nodes: RedisServer[] = [];
  try {
    for (let i = 0; i < size; i++) {
      nodes.push(
        await startRedisServer([
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          join(dir, `nodes-${i}.conf`),
          '--cluster-node-timeout',
          '2000',
          '--dir',
          dir,
        ]),
      );
    }
    await run('redis-cli', [
      '--cluster',
      'create',
      ...nodes.map((n) => `127.0.0.1:${n.port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    await waitForClusterOk(nodes);
  } catch (error) {
    await Promise.all(nodes.map((n) => n.stop()));
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    nodes,
    startupNodes: nodes.map((n) => ({ host: '127.0.0.1', port: n.port })),
    async stop() {
      await Promise.all(nodes.map((n) => n.stop()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function waitForClusterOk(nodes: RedisServer[]): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const states = await Promise.all(
      nodes.map(
        async (n) => (await run('redis-cli', ['-p', String(n.port), 'cluster', 'info'])).stdout,
      ),
    );
    if (states.every((s) => s.includes('cluster_state:ok'))) return;
    await sleep(100);
  }
  throw new Error('the local Redis Cluster did not reach cluster_state:ok within 20 s');
}
