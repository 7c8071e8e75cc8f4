import { InvalidConfiguration, type RequestOutcome, type SluiceOptions } from '@sluice/core';
import { type Decision, type HeaderAccess, HttpLimiter, writeHeaders } from '@sluice/core/adapter';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyInstance {
    /** The sluice limiter: its events, and `route(options)` for a route's own stage. */
    sluice: SluiceHook;
  }
  interface FastifyRequest {
    /** What sluice decided for this request (the last stage's outcome); absent when skipped. */
    sluice?: RequestOutcome;
  }
  interface FastifyContextConfig {
    /** Options of this route's own stage, run after the limiter; `false`: no sluice here. */
    sluice?: SluiceOptions | false;
  }
}

/**
 * A Fastify hook that decides each request with sluice, carrying the limiter's events and
 * per-route stages: `fastify.sluice` is one.
 *
 * @example
 * ```ts
 * fastify.sluice.events.on('event_dropped', (e) => log.info(e.reasonCode));
 * fastify.post('/upload/', { onRequest: fastify.sluice.route({ concurrency: { limit: 5 } }) }, handler);
 * ```
 */
export interface SluiceHook {
  /** A Fastify hook in callback style: `done()` when the request goes on; a refusal is sent instead. */
  (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void): void;
  /** `event_received`, `event_accepted`, `event_dropped` and `store_error`, shared by every stage. */
  readonly events: HttpLimiter['events'];
  /** The framework-neutral limiter this hook wraps. */
  readonly limiter: HttpLimiter;
  /** A hook for one route: `options` shallow-merged over the limiter's (see `route` in core). */
  route(options: SluiceOptions): SluiceHook;
}

/**
 * Options of {@link sluicePlugin}: sluice's options, and the hook it runs in.
 *
 * @example
 * ```ts
 * const options: SluicePluginOptions = { resolveProject, quotas, hook: 'preHandler' };
 * ```
 */
export interface SluicePluginOptions extends SluiceOptions {
  /** `onRequest` refuses before the body is read; a later hook gives events the parsed body as `data`. @default 'onRequest' */
  hook?: 'onRequest' | 'preValidation' | 'preHandler';
  /**
   * Also decide requests that match no route (Fastify's not-found handler, yours or its
   * default), so a flood of unknown paths is refused by the limiter instead of answered 404 for
   * free. Counted like any request, under the limiter's options. @default false
   */
  notFound?: boolean;
}

/**
 * A standard (TC39) method decorator for class-based controllers: runs `route(options)` before
 * the method, which keeps Fastify's `(request, reply)` signature. A refused request is answered
 * (the call resolves to `reply`) and the method is not called. `limiter` is `fastify.sluice`, or
 * a function giving it, read when the controller is constructed.
 *
 * @example
 * ```ts
 * class Events {
 *   @quota(() => fastify.sluice, { quotas: [{ id: 'ev', scope: 'project', limit: 10, windowSeconds: 60, reasonCode: 'events' }] })
 *   async create(request: FastifyRequest, reply: FastifyReply) { return { ok: true }; }
 * }
 * ```
 */
export function quota(limiter: SluiceHook | (() => SluiceHook), options: SluiceOptions) {
  const eager = typeof limiter === 'function' && 'limiter' in limiter;
  const resolve = () => {
    const hook = eager ? limiter : typeof limiter === 'function' ? limiter() : limiter;
    if (typeof hook?.route !== 'function') {
      throw new InvalidConfiguration(
        'limiter',
        hook,
        'fastify.sluice (register sluicePlugin first)',
      );
    }
    return hook.route(options);
  };
  let stage = eager ? resolve() : undefined;
  return <This, R>(
    method: (this: This, request: FastifyRequest, reply: FastifyReply) => R,
    context: ClassMethodDecoratorContext<This>,
  ) => {
    context.addInitializer(() => {
      stage ??= resolve();
    });
    return async function (this: This, request: FastifyRequest, reply: FastifyReply) {
      stage ??= resolve();
      // Not `await stage(...)`: a refusal resolves to `reply`, which is a thenable, so awaiting
      // it gives undefined (once sent), never `reply`, and the method would run after the 429.
      const decision = await stage.limiter.decide(toHttpRequest(request), request.raw);
      carryOut(decision, request, reply);
      return decision.action === 'respond' ? reply : method.call(this, request, reply);
    };
  };
}

/**
 * The Fastify 5 plugin: decides every route registered after it in the registering context
 * (first of the route's hooks of its kind, unless the route's `config` says `sluice: false`),
 * decorates `fastify.sluice`, and runs a route's `config: { sluice: options }` stage after the
 * limiter. The outcome is `request.sluice`. Invalid options reject `register` (and a route's,
 * `ready`) with core's `InvalidConfiguration`.
 *
 * @example
 * ```ts
 * await fastify.register(sluicePlugin, { store, resolveProject, quotas });
 * fastify.post('/api/:projectId/envelope/', { config: { sluice: { concurrency: { limit: 10 } } } }, handler);
 * ```
 */
export const sluicePlugin = fp<SluicePluginOptions>(
  (async (fastify, { hook = 'onRequest', notFound = false, ...given }) => {
    if (!HOOKS.includes(hook)) throw new InvalidConfiguration('hook', hook, HOOKS.join(', '));
    if (typeof notFound !== 'boolean') {
      throw new InvalidConfiguration('notFound', notFound, 'true or false');
    }
    const options: Record<string, unknown> = { ...given };
    for (const name of FASTIFY_REGISTER_OPTIONS) delete options[name];
    const root = sluiceHook(new HttpLimiter(options as SluiceOptions));
    fastify.decorate('sluice', root);
    fastify.decorateRequest('sluice', undefined);
    // Per route, as @fastify/rate-limit does: no per-request look-up of the route's config.
    fastify.addHook('onRoute', (route) => {
      const own = route.config?.sluice;
      if (own === false) return;
      const hooks = route[hook] as unknown;
      const list = Array.isArray(hooks) ? hooks : hooks ? [hooks] : [];
      route[hook] = own === undefined ? [root, ...list] : [root, ...list, root.route(own)];
    });
    // The not-found handler is no route (onRoute never sees it) but runs the context's hooks.
    if (notFound) {
      fastify.addHook(hook, (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
        if (request.is404) root(request, reply, done);
        else done();
      });
    }
  }) satisfies FastifyPluginAsync<SluicePluginOptions>,
  { fastify: '5.x', name: '@sluice/fastify' },
);

const HOOKS = ['onRequest', 'preValidation', 'preHandler'];

/** Options Fastify's `register` reads itself: not sluice's, and not unknown. */
const FASTIFY_REGISTER_OPTIONS = ['prefix', 'logLevel', 'logSerializers'];

function sluiceHook(limiter: HttpLimiter): SluiceHook {
  // Callback style, not async: an async hook that sends a refusal must resolve to `reply`, a
  // thenable that Fastify then waits on until the response ends (about 20 us of CPU a refusal).
  // Here a refusal is sent and `done` is never called, as Fastify's hooks guide says.
  const hook = (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void) => {
    limiter.decide(toHttpRequest(request), request.raw).then((decision) => {
      let sent: FastifyReply | undefined;
      try {
        sent = carryOut(decision, request, reply);
      } catch (error) {
        done(error as Error);
        return;
      }
      if (sent === undefined) done();
    }, done);
  };
  return Object.assign(hook, {
    events: limiter.events,
    limiter,
    route: (options: SluiceOptions) => sluiceHook(limiter.route(options)),
  });
}

function toHttpRequest(request: FastifyRequest) {
  const { method, originalUrl: url, headers, ip, body } = request;
  return body === undefined ? { method, url, headers, ip } : { method, url, headers, ip, body };
}

/** Sends a `respond` decision (resolving to `reply`), or applies a `continue` one. */
function carryOut(decision: Decision, request: FastifyRequest, reply: FastifyReply) {
  if (decision.action === 'respond') {
    const { status, headers, body } = decision.answer;
    writeHeaders(headers, reply, HEADERS);
    return reply.code(status).send(body);
  }
  writeHeaders(decision.headers, reply, HEADERS);
  const outcome = decision.outcome;
  if (outcome !== undefined) {
    request.sluice = outcome;
    outcome.releaseOnClose(reply.raw);
  }
  return undefined;
}

/** Headers on FastifyReply, read and set without a closure per request. */
const HEADERS: HeaderAccess<FastifyReply> = {
  get: (reply, name) => reply.getHeader(name),
  set: (reply, name, value) => void reply.header(name, value),
};
