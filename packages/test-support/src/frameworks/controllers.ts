// Class-based controllers with the adapters' `quota` decorators, in standard (TC39) decorator
// syntax. Vitest's transformer leaves that syntax as it is and Node 20 cannot run it, so
// `loadControllers()` compiles this file with TypeScript itself, as an app's build would; the
// repository's type check covers it as written. It imports types only, so the compiled module
// needs nothing at run time.
import type { SluiceOptions } from '@sluice/core';
import type { quota as expressQuota } from '@sluice/express';
import type { quota as fastifyQuota } from '@sluice/fastify';
import type { quota as koaQuota } from '@sluice/koa';
import type { NextFunction, Request, Response } from 'express';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Context, Next } from 'koa';

/** An Express controller whose `handle(req, res, next)` is decorated. */
export function expressController(
  quota: typeof expressQuota,
  limiter: Parameters<typeof expressQuota>[0],
  options: SluiceOptions,
  respond: (req: Request, res: Response, via: string) => void,
) {
  class EventsController {
    readonly via = 'controller';

    @quota(limiter, options)
    handle(req: Request, res: Response, _next: NextFunction): void {
      respond(req, res, this.via);
    }
  }
  return new EventsController();
}

/** A Koa controller whose `handle(ctx, next)` is decorated. */
export function koaController(
  quota: typeof koaQuota,
  limiter: Parameters<typeof koaQuota>[0],
  options: SluiceOptions,
  respond: (ctx: Context, via: string) => void,
) {
  class EventsController {
    readonly via = 'controller';

    @quota(limiter, options)
    async handle(ctx: Context, _next: Next): Promise<void> {
      respond(ctx, this.via);
    }
  }
  return new EventsController();
}

/** A Fastify controller whose `handle(request, reply)` is decorated. */
export function fastifyController(
  quota: typeof fastifyQuota,
  limiter: Parameters<typeof fastifyQuota>[0],
  options: SluiceOptions,
  respond: (request: FastifyRequest, via: string) => unknown,
) {
  class EventsController {
    readonly via = 'controller';

    @quota(limiter, options)
    async handle(request: FastifyRequest, _reply: FastifyReply): Promise<unknown> {
      return respond(request, this.via);
    }
  }
  return new EventsController();
}
