import {
  type DecisionMessage,
  type DecisionScope,
  decisionChannel,
  refusal,
} from '../metrics/decision-channel.js';
import type { Quota } from './quota.js';
import type { GrantedQuota, ValidRequest } from './requests.js';

/**
 * Reason code of a sliding-window decision when the caller gives none (the HTTP layer gives
 * its stage's `windows.reasonCode`, whose default is this same code).
 *
 * @example
 * ```ts
 * message.reason === WINDOW_REASON; // a window decided outside HTTP
 * ```
 */
export const WINDOW_REASON = 'sliding_window';

/**
 * The rule name of a sliding window in decision messages, as the IETF `RateLimit-Policy`
 * header names it.
 *
 * @example
 * ```ts
 * windowRule(new Quota({ windowSeconds: 60, granularitySeconds: 1, limit: 10 })); // 'window_60s'
 * ```
 */
export function windowRule(quota: Quota): string {
  return `window_${quota.windowSeconds}s`;
}

/**
 * Publishes one message per request of a sliding-window decision on `sluice:decision`: a
 * refusal names the window that cut the grant last (the one that set `granted`), an admission
 * the window left with the fewest units. `findings[i][p].remaining` is what window `p` of
 * request `i` had left before it; with `consume`, the grant is taken from it. Call it only when
 * `decisionChannel.hasSubscribers`.
 *
 * @example
 * ```ts
 * if (decisionChannel.hasSubscribers) publishWindowDecisions(requests, grants, findings, true, scope);
 * ```
 */
export function publishWindowDecisions(
  requests: readonly ValidRequest[],
  grants: readonly GrantedQuota[],
  findings: ReadonlyArray<ReadonlyArray<{ readonly remaining: number }>>,
  consume: boolean,
  scope: DecisionScope,
): void {
  for (let i = 0; i < requests.length; i++) {
    const request = requests[i]!;
    const grant = grants[i]!;
    const left = findings[i]!;
    const refused = grant.granted < request.requested;
    const taken = consume ? grant.granted : 0;
    let position = -1;
    if (refused) {
      position = request.named.indexOf(grant.reachedQuotas[grant.reachedQuotas.length - 1]!);
    } else {
      for (let p = 0; p < left.length; p++) {
        if (position < 0 || left[p]!.remaining < left[position]!.remaining) position = p;
      }
    }
    const quota = position < 0 ? undefined : request.quotas[position];
    // Every message has the same shape (absent fields undefined): one hidden class for V8.
    const message: DecisionMessage = {
      engine: 'window',
      outcome: refused ? refusal(scope.shadow) : 'admitted',
      rule: quota === undefined ? undefined : windowRule(quota),
      reason: quota === undefined ? undefined : (scope.reason ?? WINDOW_REASON),
      category: scope.category,
      fromCache: false,
      shadow: scope.shadow,
      local: scope.local,
      limit: quota?.limit,
      remaining: quota === undefined ? undefined : Math.max(0, left[position]!.remaining - taken),
      project: scope.project,
      key: request.prefix,
    };
    decisionChannel.publish(message);
  }
}
