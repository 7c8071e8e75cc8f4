import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { quota, sluice } from '@sluice/express';
import type { ErrorRequestHandler, Express, Request, RequestHandler, Response } from 'express';
import request from 'supertest';
import { loadControllers } from './load-controllers.js';
import { type AppSpec, type Framework, flatHeaders, handlerReply, type TestApp } from './types.js';

/** The contract's app on Express (4 or 5, whichever `express` is), tested with supertest. */
export function expressFramework(
  name: string,
  express: () => Express,
  json: () => RequestHandler,
): Framework {
  return {
    name,
    async build(spec: AppSpec): Promise<TestApp> {
      const { expressController } = await loadControllers();
      const app = express();
      app.set('trust proxy', spec.trustProxy ?? false);
      const limiter = sluice(spec.options);
      const stage = limiter.route(spec.route ?? {});
      const respond = (req: Request, res: Response, via: string) => {
        res.json(handlerReply(req.ip ?? '', via, req.sluice));
      };
      const controller = expressController(quota, limiter, spec.decorated ?? {}, respond);
      const ok: RequestHandler = (req, res) => respond(req, res, 'handler');
      const decorated: RequestHandler = (req, res, next) => controller.handle(req, res, next);
      if (spec.parseBody) app.use(json());
      app.use('/api', limiter);
      app.all('/api/:id/store/', ok);
      app.all('/api/:id/routed/', stage, ok);
      app.all('/api/:id/decorated/', decorated);
      app.all('/solo/api/:id/routed/', stage, ok);
      app.all('/solo/api/:id/decorated/', decorated);
      app.all('/api/:id/fail/', () => {
        throw new Error('handler failed');
      });
      app.all('/api/:id/hang/', () => undefined);
      // Express's own answer to an error (400 for a path it cannot decode), without the log.
      const silent: ErrorRequestHandler = (error: { status?: number }, _req, res, _next) => {
        res.status(error.status ?? 500).json({ error: 'handler failed' });
      };
      app.use(silent);

      const server: Server = createServer(app);
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      return {
        limiter: limiter.limiter,
        async request({ method = 'GET', path, headers = {}, json: body }) {
          let test = method === 'GET' ? request(server).get(path) : request(server).post(path);
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
    },
  };
}
