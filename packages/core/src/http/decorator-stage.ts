import { InvalidConfiguration } from '../errors.js';
import { HttpLimiter } from './http-limiter.js';
import type { SluiceOptions } from './http-options.js';

/**
 * The `route(options)` stage a `quota()` method decorator runs: `limiter` is an adapter's
 * limiter (anything with a `limiter` property) or an {@link HttpLimiter}; anything else throws
 * {@link InvalidConfiguration} naming `limiter`.
 *
 * @example
 * ```ts
 * export function quota(limiter: Sluice, options: SluiceOptions) {
 *   const stage = decoratorStage(limiter, options);
 *   return (method) => async function (this: unknown, ...args) { await stage.decide(request, carrier); ... };
 * }
 * ```
 */
export function decoratorStage(
  limiter: HttpLimiter | { readonly limiter: HttpLimiter },
  options: SluiceOptions,
): HttpLimiter {
  const base = limiter instanceof HttpLimiter ? limiter : limiter?.limiter;
  if (typeof base?.route !== 'function') {
    throw new InvalidConfiguration(
      'limiter',
      limiter,
      "what the adapter's sluice() returned, or an HttpLimiter",
    );
  }
  return base.route(options);
}
