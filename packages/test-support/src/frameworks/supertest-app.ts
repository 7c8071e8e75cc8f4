import { once } from 'node:events';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HttpLimiter } from '@sluice/core/adapter';
import request from 'supertest';
import { flatHeaders, type TestApp } from './types.js';

/**
 * A {@link TestApp} over a Node request listener (an Express app, a Koa `app.callback()`),
 * served on a loopback port and driven with supertest.
 */
export async function supertestApp(
  listener: RequestListener,
  limiter: HttpLimiter,
): Promise<TestApp> {
  const server: Server = createServer(listener);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    limiter,
    async request({ method = 'GET', path, headers = {}, json: body }) {
      const agent = request(server);
      let test =
        method === 'GET'
          ? agent.get(path)
          : method === 'OPTIONS'
            ? agent.options(path)
            : agent.post(path);
      for (const [header, value] of Object.entries(headers))
        test = test.set(header, value as string);
      if (body !== undefined) test = test.send(body as object);
      const res = await test;
      return { status: res.status, headers: flatHeaders(res.headers), body: res.text };
    },
    async listen() {
      return { server, port: (server.address() as AddressInfo).port };
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
