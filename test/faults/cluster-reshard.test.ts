import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import calculateSlot from 'cluster-key-slot';
import { afterEach, describe, expect, it } from 'vitest';
import { type AppProcess, startApp } from '../support/app-process.js';
import { type RedisCluster, startRedisCluster } from '../support/redis-cluster.js';
import { steadyLoad } from '../support/steady-load.js';

const run = promisify(execFile);
const PROJECTS = 20;
const LIMIT = 40;
const SLOTS = 200;

describe('Redis Cluster resharded under a steady load', () => {
  let cluster: RedisCluster | undefined;
  let app: AppProcess | undefined;
  afterEach(async () => {
    await app?.stop();
    await cluster?.stop();
  });

  it(`moves ${SLOTS} slots with no error beyond the deny policy and admits at most the limit per project`, async () => {
    cluster = await startRedisCluster(3);
    app = await startApp('fault-app.ts', {
      CLUSTER_NODES: JSON.stringify(cluster.startupNodes),
      POLICY: 'deny',
      TIMEOUT_MS: '500',
      LIMIT: String(LIMIT),
      WINDOW_SECONDS: '86400',
    });
    // Organizations whose hash tag lies in the first slots of node 0: the ones the reshard moves.
    const orgs: number[] = [];
    for (let id = 0; orgs.length < PROJECTS; id++)
      if (calculateSlot(`{${id}}`) < SLOTS) orgs.push(id);
    let i = 0;
    const load = steadyLoad({
      url: () => {
        const p = i++ % PROJECTS;
        return `${app!.url}/work?o=${orgs[p]}&p=${p}`;
      },
      ratePerSecond: 300,
      maxRequests: 6000,
      maxSeconds: 5,
    });
    await sleep(1000);
    const [from, to] = await Promise.all(
      [cluster.nodes[0]!, cluster.nodes[1]!].map(async (n) =>
        (await run('redis-cli', ['-p', String(n.port), 'cluster', 'myid'])).stdout.trim(),
      ),
    );
    await run('redis-cli', [
      '--cluster',
      'reshard',
      `127.0.0.1:${cluster.nodes[0]!.port}`,
      '--cluster-from',
      from!,
      '--cluster-to',
      to!,
      '--cluster-slots',
      String(SLOTS),
      '--cluster-yes',
    ]);
    const samples = await load.finished();
    expect(samples.length).toBeGreaterThan(PROJECTS * LIMIT);
    expect(samples.filter((s) => ![200, 429, 503].includes(s.status)).map((s) => s.status)).toEqual(
      [],
    );
    for (let p = 0; p < PROJECTS; p++) {
      const admitted = samples.filter((s) => s.url.endsWith(`&p=${p}`) && s.status === 200).length;
      expect(admitted, `project ${p}`).toBeLessThanOrEqual(LIMIT);
    }
    const errors = samples.filter((s) => s.status === 503).length;
    expect(errors / samples.length).toBeLessThan(0.05);
  });
});
