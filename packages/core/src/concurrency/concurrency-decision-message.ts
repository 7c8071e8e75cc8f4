import {
  type DecisionMessage,
  type DecisionScope,
  decisionChannel,
  refusal,
} from '../metrics/decision-channel.js';

/**
 * Reason code of a concurrency decision when the caller gives none (the HTTP layer's
 * `concurrency_limit` is this same code).
 *
 * @example
 * ```ts
 * message.reason === CONCURRENCY_REASON; // 'concurrency_limit'
 * ```
 */
export const CONCURRENCY_REASON = 'concurrency_limit';

/**
 * Publishes one `ConcurrencyLimiter.acquire` decision on `sluice:decision`: a lease granted
 * with `inFlight` live leases (this one included), or, when `inFlight` is undefined, no lease
 * before the wait ended. Call it only when `decisionChannel.hasSubscribers`.
 *
 * @example
 * ```ts
 * if (decisionChannel.hasSubscribers) publishConcurrencyDecision(key, limit, lease.inFlightAtGrant, scope);
 * ```
 */
export function publishConcurrencyDecision(
  key: string,
  limit: number,
  inFlight: number | undefined,
  scope: DecisionScope,
): void {
  // Every message has the same shape (absent fields undefined): one hidden class for V8.
  const message: DecisionMessage = {
    engine: 'concurrency',
    outcome: inFlight === undefined ? refusal(scope.shadow) : 'admitted',
    rule: 'concurrency',
    reason: scope.reason ?? CONCURRENCY_REASON,
    category: scope.category,
    fromCache: false,
    shadow: scope.shadow,
    local: scope.local,
    limit,
    remaining: inFlight === undefined ? 0 : Math.max(0, limit - inFlight),
    project: scope.project,
    key,
  };
  decisionChannel.publish(message);
}
