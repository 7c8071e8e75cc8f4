import type { QuotaConfig, SluiceOptions, Store } from '@sluice/core';
import { identifyByApiKey } from './accounts.js';

/**
 * Over the whole app (`app.use(limiter)`): 30 requests a minute per API key, and 100 a minute
 * per team, shared by its accounts. `/health` is never limited. Refusals answer the API's own
 * JSON (`onLimited`); routes and the decorator inherit it.
 *
 * @example
 * ```ts
 * app.use(sluice(appLimits(new MemoryStore())));
 * ```
 */
export function appLimits(store: Store): SluiceOptions {
  return {
    store,
    identify: identifyByApiKey,
    skip: (req) => req.path === '/health',
    quotas: [
      { id: 'api', scope: 'key', limit: 30, windowSeconds: 60, reasonCode: 'api_key_rate' },
      { id: 'team', scope: 'organization', limit: 100, windowSeconds: 60, reasonCode: 'team_rate' },
    ],
    rateLimitHeaders: true,
    // An API's own refusal body; sluice still writes Retry-After and the other headers.
    onLimited: (_req, refusal) => ({
      body: {
        error: 'too_many_requests',
        reason: refusal.reasonCode,
        retryAfterSeconds: refusal.retryAfter,
      },
    }),
  };
}

/**
 * One route's own limits (`limiter.route()`, Fastify's `config: { sluice }`): an export is
 * expensive, so 3 an hour per account and one at a time per account.
 *
 * @example
 * ```ts
 * app.post('/exports', limiter.route(EXPORT_LIMITS), exportNotes);
 * ```
 */
export const EXPORT_LIMITS: SluiceOptions = {
  quotas: [
    { id: 'exports', scope: 'project', limit: 3, windowSeconds: 3600, reasonCode: 'export_quota' },
  ],
  concurrency: { limit: 1, waitSeconds: 0 },
};

/**
 * The `quota()` decorator's limits on `NotesController.create`: 5 new notes a minute per account.
 *
 * @example
 * ```ts
 * class NotesController { @quota(limiter, NOTE_LIMITS) create(req, res) { ... } }
 * ```
 */
export const NOTE_LIMITS: SluiceOptions = {
  quotas: [
    { id: 'notes', scope: 'project', limit: 5, windowSeconds: 60, reasonCode: 'note_quota' },
  ] satisfies QuotaConfig[],
};
