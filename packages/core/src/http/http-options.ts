import type { LockoutOptions } from '../lockout/lockout-options.js';
import type { Project, QuotaConfig } from '../quotas/quota-config.js';
import type { ExceededLimit } from '../quotas/rate-limit.js';
import type { Quota } from '../sliding-window/quota.js';
import type { Store } from '../store/store.js';
import type { SluiceRequest } from './http-request.js';

/** A value, or a function of the request that gives it. */
export type PerRequest<T> = T | ((req: SluiceRequest) => T);

/** Who a request belongs to, as `identify` answers. */
export interface Identity {
  /** The project the request counts against. */
  project: Project;
  /** The public key, for key-scoped quotas. */
  key?: string;
}

/** One kind of data a request carries, decided on its own (an envelope's items). */
export interface RequestItem {
  /** Data category, e.g. `error`, `transaction`, `attachment`; absent: only quotas without categories apply. */
  category?: string;
  /** Units of it. */
  quantity: number;
}

/** Sliding windows applied per request (DESIGN 2.2). */
export interface WindowsOptions {
  /** The counter a request counts against, e.g. `org:${project.organizationId}`. */
  prefix(req: SluiceRequest, project: Project): string;
  /** The windows, checked together. */
  quotas: Quota[];
  /** Reason of a refusal. @default 'sliding_window' */
  reasonCode?: string;
  /** Watch the windows without enforcing them: a refusal is only reported (`event_dropped` with `shadow: true`). @default false */
  shadow?: boolean;
}

/** A concurrency limit per request (DESIGN 2.3); the slot is held until the response ends. */
export interface ConcurrencyOptions {
  /** Most requests in progress at once per key. */
  limit: number;
  /** The slot's key. @default the project id */
  key?(req: SluiceRequest, project: Project): string;
  /** Seconds after which a slot of a crashed process is reclaimed. @default 300 */
  leaseSeconds?: number;
  /** Seconds to wait for a slot before refusing. @default 0 */
  waitSeconds?: number;
  /** Watch the limit without enforcing it: a request without a slot goes on, reported (`event_dropped` with `shadow: true`). @default false */
  shadow?: boolean;
}

/**
 * Lockout with backoff per request (docs/lockout.md): a request refused by any enforced rule
 * counts against its key; after `after` refusals within `withinSeconds` the key is refused
 * outright, before any other rule and with nothing counted, for `blockSeconds` (times
 * `backoff` per repeat offence, at most `maxBlockSeconds`).
 *
 * @example
 * ```ts
 * const lockout: LockoutHttpOptions = {
 *   after: 10, withinSeconds: 60, blockSeconds: 60, backoff: 2, maxBlockSeconds: 3600,
 *   key: (req) => req.ip, // per client address instead of per project
 * };
 * ```
 */
export interface LockoutHttpOptions extends LockoutOptions {
  /** The key refusals count against and a block applies to. @default the project id */
  key?(req: SluiceRequest, project: Project): string;
  /** Reason of a refusal while blocked. @default 'lockout' */
  reasonCode?: string;
  /** Watch the lockout without enforcing it: a block is only reported (`event_dropped` with `shadow: true`). @default false */
  shadow?: boolean;
}

/**
 * A cardinality limit per request (docs/cardinality.md): the request is refused when it brings
 * a value the scope's window does not track and the window already tracks `quota.limit` values;
 * values already tracked always pass. Values are hashed, never echoed.
 *
 * @example
 * ```ts
 * const cardinality: CardinalityHttpOptions = {
 *   scope: (_req, project) => `org:${project.organizationId}`,
 *   values: (req) => [String(req.headers['x-release'] ?? '')].filter(Boolean),
 *   quota: new Quota({ windowSeconds: 3600, granularitySeconds: 60, limit: 100 }),
 * };
 * ```
 */
export interface CardinalityHttpOptions {
  /** Whose values are counted, e.g. `org:${project.organizationId}`. */
  scope(req: SluiceRequest, project: Project): string;
  /** The request's values (release names, metric names, user ids ...); at most 1000, else a 400. */
  values(req: SluiceRequest, project: Project): string[];
  /** At most `limit` distinct values within any `windowSeconds`, tracked per `granularitySeconds`. */
  quota: Quota;
  /** Reason of a refusal. @default 'cardinality_limit' */
  reasonCode?: string;
  /** Watch the limit without enforcing it: a refusal is only reported (`event_dropped` with `shadow: true`). @default false */
  shadow?: boolean;
}

/**
 * Options of `sluice(options)`, `sluicePlugin` and `route(options)`.
 *
 * @example
 * ```ts
 * const limiter = sluice({
 *   resolveProject: ({ publicKey }) => projectsByKey.get(publicKey) ?? null,
 *   quotas: (project) => [projectQuota(project, { limit: 100, windowSeconds: 60 })],
 *   category: 'error',
 * });
 * ```
 */
export interface SluiceOptions {
  /** Where counters live. @default a new MemoryStore */
  store?: Store;
  /** The project of a Sentry-authenticated request; null: unknown key (401). */
  resolveProject?(auth: {
    publicKey: string;
    projectId?: string;
  }): Project | null | Promise<Project | null>;
  /** Identifies requests that are not Sentry-shaped, instead of Sentry auth; null: 401. */
  identify?(req: SluiceRequest): Identity | null | Promise<Identity | null>;
  /** Fixed-window quotas, or a function of the project and the request that gives them. */
  quotas?:
    | QuotaConfig[]
    | ((project: Project, req: SluiceRequest) => QuotaConfig[] | Promise<QuotaConfig[]>);
  /** Sliding windows per request. */
  windows?: WindowsOptions;
  /** Concurrency limit per request. */
  concurrency?: ConcurrencyOptions;
  /** Lockout with backoff after repeated refusals. */
  lockout?: LockoutHttpOptions;
  /** Distinct values per scope per sliding window. */
  cardinality?: CardinalityHttpOptions;
  /** Data category of the request. @default undefined (only quotas without categories apply) */
  category?: PerRequest<string | undefined>;
  /** Units the request counts. @default 1 */
  quantity?: PerRequest<number>;
  /** The kinds of data a request carries, each category decided on its own. */
  items?: (req: SluiceRequest) => RequestItem[];
  /** `shadow` decides and reports but never refuses. @default 'enforce' */
  mode?: 'enforce' | 'shadow';
  /**
   * Gradual rollout: a function (false makes the decision shadow for that project), or the
   * fraction of projects enforced, from 0 to 1, stable per project (the projects in at 0.1 are
   * still in at 0.5). @default every project
   */
  enforce?: ((project: Project) => boolean) | number;
  /**
   * What a store failure or timeout means: admit (`allow`), answer 503 (`deny`), or decide on an
   * in-process memory store with each limit scaled by `localShare` until the store answers again
   * (`local`, see docs/fallback.md). @default 'allow'
   */
  onStoreError?: 'allow' | 'deny' | 'local';
  /**
   * With `onStoreError: 'local'` (and only with it, where it is required): this process's share
   * of each limit while the store fails, a fraction in (0, 1], typically 1 / the number of
   * processes. A limit becomes `floor(limit * localShare)`.
   */
  localShare?: number;
  /** Send the IETF `RateLimit` and `RateLimit-Policy` headers. @default false */
  rateLimitHeaders?: boolean;
  /** Requests for which the limiter does nothing. */
  skip?: (req: SluiceRequest) => boolean;
  /** Seconds a quota counter outlives its window. @default 60 */
  graceSeconds?: number;
  /**
   * Seconds a full quota is remembered in-process at most (never beyond its window), so a
   * flood of over-quota requests costs one store round trip per full counter per this bound; a
   * reset, a refund or another process is heard within it. `0` turns the cache off. Set on the
   * limiter only: its routes share it. @default 1
   */
  rejectionCacheMaxSeconds?: number;
  /** Status of a refusal (a 429 by default), an integer from 400 to 599. @default 429 */
  limitedStatus?: number;
  /** Body of a refusal: a string, or a value sent as JSON. @default Sentry's JSON error */
  limitedBody?: string | Record<string, unknown> | unknown[];
  /**
   * Shapes a refusal (express-rate-limit's `handler`, @fastify/rate-limit's
   * `errorResponseBuilder`): what it returns replaces the status, body or adds headers; sluice's
   * own headers (`Retry-After`, `X-Sentry-Rate-Limits`, ...) are kept whatever it returns. One
   * that throws, rejects or returns something invalid gets the default refusal and a
   * `config_error` event.
   */
  onLimited?: (
    req: SluiceRequest,
    refusal: Refusal,
  ) => LimitedResponse | undefined | Promise<LimitedResponse | undefined>;
  /** Give back what an admitted request counted when its response failed (status >= 400, or closed early). @default false */
  skipFailedRequests?: boolean;
  /** Give back what an admitted request counted when its response succeeded. @default false */
  skipSuccessfulRequests?: boolean;
  /** Whether a response succeeded, for the two options above. @default status < 400 and not closed early */
  requestWasSuccessful?: (req: SluiceRequest, response: { readonly statusCode: number }) => boolean;
}

/**
 * A refusal, as {@link SluiceOptions.onLimited} sees it: who was refused, for how long, why,
 * and every limit that refused (as `X-Sentry-Rate-Limits` lists them).
 *
 * @example
 * ```ts
 * const onLimited = (req: SluiceRequest, refusal: Refusal) => ({
 *   body: { message: `Slow down: retry in ${refusal.retryAfter} s`, reason: refusal.reasonCode },
 * });
 * ```
 */
export interface Refusal {
  readonly project: Project;
  readonly key?: string;
  /** Whole seconds until the client may retry, as `Retry-After` says. */
  readonly retryAfter: number;
  /** The reason of the longest limit, as `X-Sentry-Rate-Limit-Reason` says. */
  readonly reasonCode: string;
  /** Every limit that refused. */
  readonly limits: readonly ExceededLimit[];
}

/**
 * What {@link SluiceOptions.onLimited} may return: any of a status (400 to 599), a body (a string,
 * or a value sent as JSON) and extra headers (never replacing sluice's own).
 *
 * @example
 * ```ts
 * const answer: LimitedResponse = { status: 429, body: { error: 'too many requests' }, headers: { 'Cache-Control': 'no-store' } };
 * ```
 */
export interface LimitedResponse {
  readonly status?: number;
  readonly body?: string | Record<string, unknown> | unknown[];
  readonly headers?: Readonly<Record<string, string>>;
}
