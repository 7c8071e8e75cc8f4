import { once } from 'node:events';
import koaCors from '@koa/cors';
import { quota, sluice } from '@sluice/koa';
import type Koa from 'koa';
import type { Context, Middleware, Next } from 'koa';
import { loadControllers } from './load-controllers.js';
import { supertestApp } from './supertest-app.js';
import {
  APP_EXPOSED_HEADER,
  type AppSpec,
  type Framework,
  handlerReply,
  type TestApp,
} from './types.js';

/** The contract's app on Koa (2 or 3, whichever `Koa` is), tested with `app.callback()` via supertest. */
export function koaFramework(name: string, KoaClass: typeof Koa): Framework {
  return {
    name,
    async build(spec: AppSpec): Promise<TestApp> {
      const { koaController } = await loadControllers();
      const app = new KoaClass();
      app.proxy = spec.trustProxy ?? false;
      app.silent = true;
      const limiter = sluice(spec.options);
      const stage = limiter.route(spec.route ?? {});
      const respond = (ctx: Context, via: string) => {
        ctx.body = handlerReply(ctx.ip, via, ctx.state.sluice);
      };
      const controller = koaController(quota, limiter, spec.decorated ?? {}, respond);
      const ok: Middleware = (ctx) => respond(ctx, 'handler');
      const decorated: Middleware = (ctx, next) => controller.handle(ctx, next);
      const routes: Array<[RegExp, Middleware[]]> = [
        [/^\/api\/[^/]+\/(?:store|envelope)\/?$/, [ok]],
        [/^\/api\/[^/]+\/routed\/$/, [stage, ok]],
        [/^\/api\/[^/]+\/decorated\/$/, [decorated]],
        [/^\/solo\/api\/[^/]+\/routed\/$/, [stage, ok]],
        [/^\/solo\/api\/[^/]+\/decorated\/$/, [decorated]],
        [
          /^\/api\/[^/]+\/fail\/$/,
          [
            () => {
              throw new Error('handler failed');
            },
          ],
        ],
        [/^\/api\/[^/]+\/hang\/$/, [(ctx) => once(ctx.res, 'close')]],
      ];
      if (spec.cors)
        app.use(
          koaCors({ origin: (ctx) => ctx.get('Origin'), exposeHeaders: [APP_EXPOSED_HEADER] }),
        );
      if (spec.parseBody) app.use(readJson);
      // Paths match in any letter case, as Express and Sentry route them.
      app.use((ctx, next) =>
        ctx.path.toLowerCase().startsWith('/api/') ? limiter(ctx, next) : next(),
      );
      app.use(async (ctx, next) => {
        const path = ctx.path.toLowerCase();
        const route = routes.find(([pattern]) => pattern.test(path));
        if (route === undefined) return next();
        await chain(route[1], ctx, next);
      });

      return supertestApp(app.callback(), limiter.limiter);
    },
  };
}

function chain(middleware: Middleware[], ctx: Context, next: Next): Promise<unknown> {
  const run = (i: number): Promise<unknown> =>
    i === middleware.length ? next() : Promise.resolve(middleware[i]!(ctx, () => run(i + 1)));
  return run(0);
}

/** A JSON body reader, standing in for koa-bodyparser: sets `ctx.request.body`. */
async function readJson(ctx: Context, next: Next): Promise<void> {
  if (ctx.is('application/json')) {
    const chunks: Buffer[] = [];
    for await (const chunk of ctx.req) chunks.push(chunk as Buffer);
    (ctx.request as { body?: unknown }).body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  }
  await next();
}
