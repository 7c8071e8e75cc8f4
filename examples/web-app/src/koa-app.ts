import { createServer, type Server } from 'node:http';
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import type { RequestOutcome, Store } from '@sluice/core';
import { quota, sluice } from '@sluice/koa';
import Koa, { type Context, type Next } from 'koa';
import { appLimits, EXPORT_LIMITS, NOTE_LIMITS } from './limits.js';
import { NoteBook } from './notes.js';

/**
 * The notes API on Koa (2 or 3) with `@koa/router`, limited three ways: `app.use(limiter)` over
 * every route, `limiter.route(EXPORT_LIMITS)` on `POST /exports`, and
 * `@quota(limiter, NOTE_LIMITS)` on the controller method behind `POST /notes`.
 *
 * @example
 * ```ts
 * const server = await koaApp(new MemoryStore())(3000);
 * ```
 */
export function koaApp(store: Store): (port: number) => Promise<Server> {
  const limiter = sluice(appLimits(store));
  const notes = new NoteBook();

  class NotesController {
    list(ctx: Context) {
      ctx.body = notes.list(account(ctx));
    }

    @quota(limiter, NOTE_LIMITS)
    async create(ctx: Context, _next: Next): Promise<void> {
      const note = notes.add(
        account(ctx),
        (ctx.request.body as { text?: unknown } | undefined)?.text,
      );
      ctx.status = note === undefined ? 400 : 201;
      ctx.body = note ?? { error: 'text: 1 to 1,000 characters' };
    }
  }
  const controller = new NotesController();

  const open = new Router();
  open.get('/health', (ctx) => {
    ctx.body = { ok: true };
  });
  const api = new Router();
  api.get('/notes', (ctx) => controller.list(ctx));
  api.post('/notes', (ctx, next) => controller.create(ctx, next));
  api.post('/exports', limiter.route(EXPORT_LIMITS), async (ctx) => {
    ctx.body = await notes.export(account(ctx));
  });

  const app = new Koa();
  app.use(open.routes());
  app.use(bodyParser());
  app.use(limiter);
  app.use(api.routes());
  app.use(api.allowedMethods());
  return (port) =>
    new Promise((resolve) => {
      const server = createServer(app.callback()).listen(port, '127.0.0.1', () => resolve(server));
    });
}

/** The account sluice identified (the limiter ran before every route but `/health`). */
function account(ctx: Context): string {
  return String((ctx.state.sluice as RequestOutcome).project.id);
}
