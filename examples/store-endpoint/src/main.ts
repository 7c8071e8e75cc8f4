// The Sentry-compatible store endpoint: `npm run start -- --framework express|koa|fastify`.
// Env: PORT (3000), SLUICE_CONFIG (./sluice.config.json), REDIS_URL (absent: memory store),
// SLUICE_OUTPUT (a JSON-lines file for accepted data; `-`, the default, is stdout).
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { MemoryStore, type Store } from '@sluice/core';
import { loadConfig } from './config.js';
import { expressApp } from './express-app.js';
import { fastifyApp } from './fastify-app.js';
import { IngestLog } from './ingest-log.js';
import { koaApp } from './koa-app.js';

/** What `start` serves with. */
export interface EndpointSettings {
  framework: 'express' | 'koa' | 'fastify';
  port: number;
  configPath: string;
  redisUrl?: string | undefined;
  output: string;
}

/** Starts the endpoint and resolves to its address and a `close()`. */
export async function start(
  settings: EndpointSettings,
): Promise<{ url: string; close(): Promise<void> }> {
  const config = loadConfig(settings.configPath);
  const { store, disconnect } = await openStore(settings.redisUrl);
  const log = new IngestLog(settings.output);
  if (settings.framework === 'fastify') {
    const app = await fastifyApp(config, store, log);
    await app.listen({ port: settings.port, host: '127.0.0.1' });
    const address = app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : settings.port;
    return {
      url: `http://127.0.0.1:${port}`,
      close: async () => {
        await app.close();
        disconnect();
      },
    };
  }
  const listen = (settings.framework === 'express' ? expressApp : koaApp)(config, store, log);
  const server = await listen(settings.port);
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : settings.port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve(disconnect()))),
  };
}

async function openStore(
  redisUrl: string | undefined,
): Promise<{ store: Store; disconnect(): void }> {
  if (redisUrl === undefined || redisUrl === '')
    return { store: new MemoryStore(), disconnect: () => {} };
  const [{ Redis }, { RedisStore }] = await Promise.all([
    import('ioredis'),
    import('@sluice/core/redis'),
  ]);
  // Fail fast while disconnected and reconnect quickly: see docs/reliability.md.
  const client = new Redis(redisUrl, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (times) => Math.min(times * 50, 200),
  });
  client.on('error', () => {});
  await new Promise((resolve) => client.once('ready', resolve));
  return { store: new RedisStore(client), disconnect: () => client.disconnect() };
}

function settingsFromCli(): EndpointSettings {
  const { values } = parseArgs({ options: { framework: { type: 'string', default: 'fastify' } } });
  const framework = values.framework;
  if (framework !== 'express' && framework !== 'koa' && framework !== 'fastify') {
    throw new Error(`--framework must be express, koa or fastify, not ${framework}`);
  }
  return {
    framework,
    port: Number(process.env.PORT ?? 3000),
    configPath:
      process.env.SLUICE_CONFIG ?? fileURLToPath(new URL('../sluice.config.json', import.meta.url)),
    redisUrl: process.env.REDIS_URL,
    output: process.env.SLUICE_OUTPUT ?? '-',
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    const settings = settingsFromCli();
    const { url } = await start(settings);
    console.error(
      `sluice store endpoint on ${url} (${settings.framework}, ${settings.redisUrl ? 'Redis' : 'memory'} store)`,
    );
  } catch (error) {
    console.error(`sluice store endpoint: ${(error as Error).message}`);
    process.exit(1);
  }
}
