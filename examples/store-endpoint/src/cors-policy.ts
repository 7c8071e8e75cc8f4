/**
 * What the endpoint answers to browsers, as Relay does for its store routes: any origin may
 * POST with the headers Sentry SDKs send, read the answer's rate-limit headers, and cache the
 * preflight for an hour. Each framework's own CORS middleware (`cors`, `@koa/cors`,
 * `@fastify/cors`) applies it, mounted before sluice so sluice's own answers (429, 400, 401,
 * 403) carry the same headers.
 *
 * @example
 * app.use(cors({ origin: '*', methods: [...CORS_POLICY.methods],
 *   allowedHeaders: [...CORS_POLICY.allowedHeaders], exposedHeaders: [...CORS_POLICY.exposedHeaders],
 *   maxAge: CORS_POLICY.maxAgeSeconds }));
 */
export const CORS_POLICY = {
  /** Any page may send: the DSN's public key, not the origin, says who is sending. */
  origin: '*',
  methods: ['POST'],
  /** The request headers Sentry SDKs send. */
  allowedHeaders: [
    'x-sentry-auth',
    'x-requested-with',
    'x-forwarded-for',
    'origin',
    'referer',
    'accept',
    'content-type',
    'authentication',
    'authorization',
    'content-encoding',
    'transfer-encoding',
  ],
  /** The answer's headers the SDK reads to back off. */
  exposedHeaders: ['x-sentry-error', 'x-sentry-rate-limits', 'retry-after'],
  /** How long a browser may reuse a preflight answer. */
  maxAgeSeconds: 3600,
} as const;
