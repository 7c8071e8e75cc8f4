// The notes API, limited by sluice three ways: `npm run web-app -- --framework express|koa|fastify`.
// Env: PORT (3001; 0 picks a free port). Prints `listening on <url>` once it serves.
import { parseArgs } from 'node:util';
import { MemoryStore } from '@sluice/core';
import { expressApp } from './express-app.js';
import { fastifyApp } from './fastify-app.js';
import { koaApp } from './koa-app.js';

const FRAMEWORKS = ['express', 'koa', 'fastify'] as const;

const { values } = parseArgs({ options: { framework: { type: 'string', default: 'express' } } });
const framework = values.framework as (typeof FRAMEWORKS)[number];
if (!FRAMEWORKS.includes(framework)) {
  process.stderr.write(`--framework must be express, koa or fastify, not ${values.framework}\n`);
  process.exit(2);
}
const port = Number(process.env.PORT ?? 3001);
const store = new MemoryStore();

let url: string;
if (framework === 'fastify') {
  const app = await fastifyApp(store);
  url = await app.listen({ port, host: '127.0.0.1' });
} else {
  const server = await (framework === 'express' ? expressApp : koaApp)(store)(port);
  const address = server.address();
  url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : port}`;
}
process.stdout.write(`listening on ${url} (${framework})\n`);
process.stdout.write(
  `try: curl -i -H 'x-api-key: key-alice' -H 'content-type: application/json' -d '{"text":"hi"}' ${url}/notes\n`,
);
