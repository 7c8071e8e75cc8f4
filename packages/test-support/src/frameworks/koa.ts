import { once } from 'node:events';
import { bodyParser } from '@koa/bodyparser';
import koaCors from '@koa/cors';
import Router from '@koa/router';
import { quota, sluice } from '@sluice/koa';
import type Koa from 'koa';
import type { Context, Middleware } from 'koa';
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
        spec.ran?.(via);
        ctx.body = handlerReply(ctx.ip, via, ctx.state.sluice);
      };
      const controller = koaController(quota, limiter, spec.decorated ?? {}, respond);
      const ok: Middleware = (ctx) => respond(ctx, 'handler');
      const decorated: Middleware = (ctx, next) => controller.handle(ctx, next);
      // Paths match in any letter case, as Express and Sentry route them (the router's default);
      // a trailing slash is required where the other frameworks' routes require it.
      const router = new Router({ strict: true });
      router.all('/api/:project/store{/}', ok);
      router.all('/api/:project/envelope{/}', ok);
      router.all('/api/:project/routed/', stage, ok);
      router.all('/api/:project/decorated/', decorated);
      router.all('/solo/api/:project/routed/', stage, ok);
      router.all('/solo/api/:project/decorated/', decorated);
      router.all('/api/:project/fail/', () => {
        throw new Error('handler failed');
      });
      router.all('/api/:project/hang/', (ctx) => once(ctx.res, 'close'));
      if (spec.cors)
        app.use(
          koaCors({ origin: (ctx) => ctx.get('Origin'), exposeHeaders: [APP_EXPOSED_HEADER] }),
        );
      if (spec.parseBody) app.use(bodyParser({ enableTypes: ['json'] }));
      app.use((ctx, next) =>
        ctx.path.toLowerCase().startsWith('/api/') ? limiter(ctx, next) : next(),
      );
      app.use(router.routes());

      return supertestApp(app.callback(), limiter.limiter);
    },
  };
}
