import {
  type DecisionMessage,
  type DecisionOutcome,
  type DecisionScope,
  decisionChannel,
} from '../metrics/decision-channel.js';
import type { Project, QuotaConfig } from './quota-config.js';

/**
 * What bound one quota decision, as `Quotas` found it: built only when `sluice:decision` has a
 * subscriber.
 *
 * @example
 * ```ts
 * const bound: QuotaBinding = { outcome: 'refused', quota, remaining: 0, fromCache: false };
 * ```
 */
export interface QuotaBinding {
  readonly outcome: DecisionOutcome;
  /** The quota that refused, or the enforced one left with the fewest units; none: no limit. */
  readonly quota: QuotaConfig | undefined;
  /** What that quota has left after the decision, when known. */
  readonly remaining: number | undefined;
  /** The answer came from the rejection cache. */
  readonly fromCache: boolean;
}

/**
 * Publishes one `Quotas.isRateLimited` decision on `sluice:decision`. Call it only when
 * `decisionChannel.hasSubscribers`.
 *
 * @example
 * ```ts
 * if (decisionChannel.hasSubscribers) publishQuotaDecision(bound, project, opts.category, scope);
 * ```
 */
export function publishQuotaDecision(
  bound: QuotaBinding,
  project: Project,
  category: string | undefined,
  scope: DecisionScope,
): void {
  const { outcome, quota, remaining, fromCache } = bound;
  const message: { -readonly [K in keyof DecisionMessage]: DecisionMessage[K] } = {
    engine: 'quota',
    outcome,
    fromCache,
    shadow: scope.shadow || quota?.shadow === true,
    local: scope.local,
    project,
  };
  if (quota !== undefined) {
    message.rule = quota.id;
    if (quota.reasonCode !== undefined) message.reason = quota.reasonCode;
    if (quota.limit !== null) message.limit = quota.limit;
  }
  if (remaining !== undefined) message.remaining = remaining;
  if (category !== undefined) message.category = category;
  decisionChannel.publish(message);
}
