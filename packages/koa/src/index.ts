import type { RequestOutcome, SluiceOptions } from '@sluice/core';
import {
  type Decision,
  decoratorStage,
  type HeaderAccess,
  HttpLimiter,
  writeHeaders,
} from '@sluice/core/adapter';
import type { Context, Middleware, Next } from 'koa';

declare module 'koa' {
  interface DefaultState {
    /** What sluice decided for this request (the last stage's outcome); absent when skipped. */
    sluice?: RequestOutcome;
  }
}

/**
 * Koa middleware (Koa 2 and 3) that decides each request with sluice, carrying the limiter's
 * events and per-route stages.
 *
 * @example
 * ```ts
 * const limiter: SluiceMiddleware = sluice({ resolveProject, quotas });
 * limiter.events.on('event_dropped', (e) => log.info(e.reasonCode));
 * ```
 */
export interface SluiceMiddleware extends Middleware {
  /** `event_received`, `event_accepted`, `event_dropped` and `store_error`, shared by every stage. */
  readonly events: HttpLimiter['events'];
  /** The framework-neutral limiter this middleware wraps. */
  readonly limiter: HttpLimiter;
  /**
   * Middleware for one route: `options` shallow-merged over the limiter's. After the limiter it
   * decides only its own quotas, windows and concurrency; used alone it identifies the request.
   */
  route(options: SluiceOptions): SluiceMiddleware;
}

/**
 * Creates the sluice middleware. The outcome is `ctx.state.sluice`; a concurrency slot is given
 * back when the response finishes, fails or the client disconnects. Invalid options throw core's
 * `InvalidConfiguration` here. The client IP is `ctx.ip`, which honours `app.proxy`.
 *
 * @example
 * ```ts
 * const limiter = sluice({ store, resolveProject, quotas: (p) => [projectQuota(p, { limit: 100, windowSeconds: 60 })] });
 * app.use(limiter);
 * router.post('/api/:projectId/envelope/', limiter.route({ concurrency: { limit: 10 } }), handler);
 * ```
 */
export function sluice(options: SluiceOptions): SluiceMiddleware {
  return middleware(new HttpLimiter(options));
}

/**
 * A standard (TC39) method decorator for class-based controllers: runs `limiter.route(options)`
 * before the method, which keeps Koa's `(ctx, next)` signature. A refused request is answered
 * and the method is not called; an error of the limiter rejects the call, as a middleware's would.
 *
 * @example
 * ```ts
 * class Events {
 *   @quota(limiter, { quotas: [{ id: 'ev', scope: 'project', limit: 10, windowSeconds: 60, reasonCode: 'events' }] })
 *   async create(ctx: Context) { ctx.body = { ok: true }; }
 * }
 * const events = new Events();
 * router.post('/api/:projectId/events/', (ctx, next) => events.create(ctx, next));
 * ```
 */
export function quota(
  limiter: HttpLimiter | { readonly limiter: HttpLimiter },
  options: SluiceOptions,
) {
  const stage = decoratorStage(limiter, options);
  return <This, R>(
    method: (this: This, ctx: Context, next: Next) => R,
    _context: ClassMethodDecoratorContext<This>,
  ) =>
    async function (this: This, ctx: Context, next: Next): Promise<Awaited<R> | undefined> {
      const decision = await stage.decide(toHttpRequest(ctx), ctx.req);
      return carryOut(decision, ctx) ? await method.call(this, ctx, next) : undefined;
    };
}

function middleware(limiter: HttpLimiter): SluiceMiddleware {
  const handler: Middleware = async (ctx, next) => {
    const decision = await limiter.decide(toHttpRequest(ctx), ctx.req);
    if (carryOut(decision, ctx)) await next();
  };
  return Object.assign(handler, {
    events: limiter.events,
    limiter,
    route: (options: SluiceOptions) => middleware(limiter.route(options)),
  });
}

function toHttpRequest(ctx: Context) {
  const request = { method: ctx.method, url: ctx.originalUrl, headers: ctx.headers, ip: ctx.ip };
  const body = (ctx.request as { body?: unknown }).body;
  return body === undefined ? request : { ...request, body };
}

/** Writes a `respond` decision, or applies a `continue` one; true when the request goes on. */
function carryOut(decision: Decision, ctx: Context): boolean {
  if (decision.action === 'respond') {
    const { status, headers, body } = decision.answer;
    ctx.status = status;
    writeHeaders(headers, ctx, HEADERS);
    ctx.body = body;
    return false;
  }
  writeHeaders(decision.headers, ctx, HEADERS);
  const outcome = decision.outcome;
  if (outcome !== undefined) {
    ctx.state.sluice = outcome;
    outcome.releaseOnClose(ctx.res);
  }
  return true;
}

/** Headers on Context, read and set without a closure per request. */
const HEADERS: HeaderAccess<Context> = {
  get: (ctx, name) => ctx.response.get(name),
  set: (ctx, name, value) => ctx.set(name, value),
};
