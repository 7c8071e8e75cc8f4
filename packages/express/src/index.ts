import type { ServerResponse } from 'node:http';
import type { RequestOutcome, SluiceOptions } from '@sluice/core';
import {
  type Decision,
  decoratorStage,
  type HeaderAccess,
  HttpLimiter,
  writeHeaders,
} from '@sluice/core/adapter';
import type { NextFunction, Request, RequestHandler, Response } from 'express';

declare global {
  namespace Express {
    interface Request {
      /** What sluice decided for this request (the last stage's outcome); absent when skipped. */
      sluice?: RequestOutcome;
    }
  }
}

/**
 * Express middleware (Express 4 and 5) that decides each request with sluice, carrying the
 * limiter's events and per-route stages.
 *
 * @example
 * ```ts
 * const limiter: SluiceMiddleware = sluice({ resolveProject, quotas });
 * limiter.events.on('event_dropped', (e) => log.info(e.reasonCode));
 * ```
 */
export interface SluiceMiddleware extends RequestHandler {
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
 * Creates the sluice middleware. The outcome is `req.sluice`; a concurrency slot is given back
 * when the response finishes, fails or the client disconnects. Invalid options throw core's
 * `InvalidConfiguration` here.
 *
 * @example
 * ```ts
 * const limiter = sluice({ store, resolveProject, quotas: (p) => [projectQuota(p, { limit: 100, windowSeconds: 60 })] });
 * app.use(limiter);
 * app.post('/api/:projectId/envelope/', limiter.route({ concurrency: { limit: 10 } }), handler);
 * ```
 */
export function sluice(options: SluiceOptions): SluiceMiddleware {
  return middleware(new HttpLimiter(options));
}

/**
 * A standard (TC39) method decorator for class-based controllers: runs `limiter.route(options)`
 * before the method, which keeps Express's `(req, res, next)` signature. A refused request is
 * answered and the method is not called; an error of the limiter or the method goes to `next`
 * (Express 4 does not catch a rejected handler).
 *
 * @example
 * ```ts
 * class Events {
 *   @quota(limiter, { quotas: [{ id: 'ev', scope: 'project', limit: 10, windowSeconds: 60, reasonCode: 'events' }] })
 *   async create(req: Request, res: Response) { res.json({ ok: true }); }
 * }
 * const events = new Events();
 * app.post('/api/:projectId/events/', (req, res, next) => events.create(req, res, next));
 * ```
 */
export function quota(
  limiter: HttpLimiter | { readonly limiter: HttpLimiter },
  options: SluiceOptions,
) {
  const stage = decoratorStage(limiter, options);
  return <This, R>(
    method: (this: This, req: Request, res: Response, next: NextFunction) => R,
    _context: ClassMethodDecoratorContext<This>,
  ) =>
    async function (
      this: This,
      req: Request,
      res: Response,
      next: NextFunction,
    ): Promise<Awaited<R> | undefined> {
      try {
        const decision = await stage.decide(toHttpRequest(req), req);
        return carryOut(decision, req, res) ? await method.call(this, req, res, next) : undefined;
      } catch (error) {
        if (typeof next !== 'function') throw error;
        next(error);
        return undefined;
      }
    };
}

function middleware(limiter: HttpLimiter): SluiceMiddleware {
  const handler: RequestHandler = (req, res, next) => {
    // Every failure goes to `next`, writing the answer included: no promise is left unhandled.
    limiter.decide(toHttpRequest(req), req).then((decision) => {
      let goOn: boolean;
      try {
        goOn = carryOut(decision, req, res);
      } catch (error) {
        next(error);
        return;
      }
      if (goOn) next();
    }, next);
  };
  return Object.assign(handler, {
    events: limiter.events,
    limiter,
    route: (options: SluiceOptions) => middleware(limiter.route(options)),
  });
}

function toHttpRequest(req: Request) {
  const request = {
    method: req.method,
    url: req.originalUrl,
    headers: req.headers,
    ip: req.ip ?? '',
  };
  return req.body === undefined ? request : { ...request, body: req.body as unknown };
}

/** Writes a `respond` decision, or applies a `continue` one; true when the request goes on. */
function carryOut(decision: Decision, req: Request, res: ServerResponse): boolean {
  if (decision.action === 'respond') {
    const { status, headers, body } = decision.answer;
    res.statusCode = status;
    writeHeaders(headers, res, HEADERS);
    res.end(body);
    return false;
  }
  writeHeaders(decision.headers, res, HEADERS);
  const outcome = decision.outcome;
  if (outcome !== undefined) {
    req.sluice = outcome;
    outcome.releaseOnClose(res);
  }
  return true;
}

/** Headers on ServerResponse, read and set without a closure per request. */
const HEADERS: HeaderAccess<ServerResponse> = {
  get: (res, name) => res.getHeader(name),
  set: (res, name, value) => void res.setHeader(name, value),
};
