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
  const { quota } = bound;
  // Every message has the same shape (absent fields undefined): one hidden class for V8.
  const message: DecisionMessage = {
    engine: 'quota',
    outcome: bound.outcome,
    rule: quota?.id,
    reason: quota?.reasonCode,
    category,
    fromCache: bound.fromCache,
    shadow: scope.shadow || quota?.shadow === true,
    local: scope.local,
    limit: quota?.limit ?? undefined,
    remaining: bound.remaining,
    project,
    key: undefined,
  };
  decisionChannel.publish(message);
}
