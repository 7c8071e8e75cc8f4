import { quota, sluice } from '@sluice/express';
import cors from 'cors';
import type { ErrorRequestHandler, Express, Request, RequestHandler, Response } from 'express';
import { loadControllers } from './load-controllers.js';
import { supertestApp } from './supertest-app.js';
import {
  APP_EXPOSED_HEADER,
  type AppSpec,
  type Framework,
  handlerReply,
  type TestApp,
} from './types.js';

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
        spec.ran?.(via);
        res.json(handlerReply(req.ip ?? '', via, req.sluice));
      };
      const controller = expressController(quota, limiter, spec.decorated ?? {}, respond);
      const ok: RequestHandler = (req, res) => respond(req, res, 'handler');
      const decorated: RequestHandler = (req, res, next) => controller.handle(req, res, next);
      if (spec.cors) app.use(cors({ origin: true, exposedHeaders: [APP_EXPOSED_HEADER] }));
      if (spec.parseBody) app.use(json());
      app.use('/api', limiter);
      app.all('/api/:id/store/', ok);
      app.all('/api/:id/envelope/', ok);
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

      return supertestApp(app, limiter.limiter);
    },
  };
}
