/**
 * `@sluice/core/adapter`: what only the framework adapters (`@sluice/express`, `@sluice/koa`,
 * `@sluice/fastify`) import: the framework-neutral HTTP limiter, the decision it hands back,
 * the decorator's stage lookup, and the header writer. Apps import the adapters, not this.
 *
 * @example
 * ```ts
 * import { HttpLimiter, writeHeaders } from '@sluice/core/adapter';
 * const limiter = new HttpLimiter(options);
 * const decision = await limiter.decide({ method, url, headers, ip }, rawRequest);
 * ```
 */

export { decoratorStage } from './http/decorator-stage.js';
export {
  EXPOSE_HEADERS,
  type HeaderAccess,
  mergeNames,
  writeHeaders,
} from './http/header-writer.js';
export { type Decision, HttpLimiter } from './http/http-limiter.js';
export {
  CARDINALITY_OPTION_NAMES,
  CONCURRENCY_OPTION_NAMES,
  LOCKOUT_OPTION_NAMES,
  SLUICE_OPTION_NAMES,
  WINDOWS_OPTION_NAMES,
} from './http/option-names.js';
export type { ClosingResponse } from './http/request-outcome.js';
