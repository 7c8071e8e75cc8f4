import type { Server } from 'node:http';
import type { RequestOutcome, SluiceOptions } from '@sluice/core';
import type { HttpLimiter } from '@sluice/core/adapter';

/**
 * One app per test, the same on every framework. Routes (each answers 200 with a
 * {@link HandlerReply} unless said otherwise):
 *
 * - `/api/:id/store/` and `/api/:id/envelope/`: behind the app-level limiter (which covers
 *   every `/api/` path); every route matches in any letter case, with or without the slash;
 * - `/api/:id/routed/`: the limiter, then `route(spec.route)`;
 * - `/api/:id/decorated/`: the limiter, then a controller method decorated with
 *   `quota(limiter, spec.decorated)`;
 * - `/solo/api/:id/routed/` and `/solo/api/:id/decorated/`: the route stage or the decorated
 *   method alone, without the app-level limiter;
 * - `/api/:id/fail/`: the limiter, then a handler that throws (500);
 * - `/api/:id/hang/`: the limiter, then a handler that never answers.
 */
export interface AppSpec {
  /** Options of the app-level limiter. */
  readonly options: SluiceOptions;
  /** Options of the route stage. @default {} */
  readonly route?: SluiceOptions;
  /** Options of the decorated method. @default {} */
  readonly decorated?: SluiceOptions;
  /** The framework's trust-proxy setting. @default false */
  readonly trustProxy?: boolean;
  /** Parse JSON bodies before the limiter (Fastify: the plugin runs in `preHandler`). */
  readonly parseBody?: boolean;
  /**
   * Mount the framework's own CORS middleware (`cors`, `@koa/cors`, `@fastify/cors`) before
   * sluice, as the README says: any origin, exposing {@link APP_EXPOSED_HEADER}.
   */
  readonly cors?: boolean;
  /** Called each time a route handler or the decorated method runs, with `handler` or `controller`. */
  readonly ran?: (via: string) => void;
}

/** The header the app's CORS middleware exposes itself, beside sluice's. */
export const APP_EXPOSED_HEADER = 'X-Request-Id';

/** A request as the harness sends it. */
export interface TestRequest {
  readonly method?: 'GET' | 'POST' | 'OPTIONS';
  /** Path and query string, sent as they are. */
  readonly path: string;
  /** Header values; an array sends the header once per value. */
  readonly headers?: Record<string, string | string[]>;
  /** A JSON body. */
  readonly json?: unknown;
}

/** A response: status, headers with lower-case names (repeated ones joined), raw body. */
export interface TestResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** What the test routes answer. */
export interface HandlerReply {
  /** The client IP as the framework resolved it. */
  readonly ip: string;
  /** Which handler answered: `handler` or `controller` (the decorated method's `this`). */
  readonly via: string;
  /** The outcome the framework exposes (`req.sluice`, `ctx.state.sluice`, `request.sluice`). */
  readonly sluice: {
    project: string;
    shadow: boolean;
    accepted: string[];
    dropped: string[];
  } | null;
}

/** An app built by a {@link Framework}. */
export interface TestApp {
  /** The app-level limiter. */
  readonly limiter: HttpLimiter;
  /** Sends one request through the framework's own test client. */
  request(request: TestRequest): Promise<TestResponse>;
  /** Serves the app on a loopback port, for cases that need a real socket (client aborts). */
  listen(): Promise<{ server: Server; port: number }>;
  close(): Promise<void>;
}

/** One framework (and major version) under the contract. */
export interface Framework {
  readonly name: string;
  build(spec: AppSpec): Promise<TestApp>;
}

/** The reply of the test routes. */
export function handlerReply(
  ip: string,
  via: string,
  outcome: RequestOutcome | undefined,
): HandlerReply {
  return {
    ip,
    via,
    sluice:
      outcome === undefined
        ? null
        : {
            project: String(outcome.project.id),
            shadow: outcome.shadow,
            accepted: outcome.accepted.map((item) => item.category ?? ''),
            dropped: outcome.dropped.map((item) => item.category ?? ''),
          },
  };
}

/** Lower-case names, repeated values joined by `, `, everything a string. */
export function flatHeaders(headers: Record<string, unknown>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return flat;
}
