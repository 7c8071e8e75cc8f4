import { channel } from 'node:diagnostics_channel';
import type { Project } from '../quotas/quota-config.js';

/**
 * Name of the `node:diagnostics_channel` channel on which every decision is published, as a
 * {@link DecisionMessage}: one message per engine decision, whether the engine was called
 * directly or by the HTTP layer, never two for one decision.
 *
 * @example
 * ```ts
 * import { subscribe } from 'node:diagnostics_channel';
 * subscribe(DECISION_CHANNEL, (message) => {
 *   const decision = message as DecisionMessage;
 *   if (decision.outcome === 'refused') console.log(decision.engine, decision.rule, decision.reason);
 * });
 * ```
 */
export const DECISION_CHANNEL = 'sluice:decision';

/**
 * What decided: fixed-window quotas (`Quotas`), sliding windows (`SlidingWindowRateLimiter`),
 * a concurrency limit (`ConcurrencyLimiter`), or, over HTTP, the `onStoreError` policy when the
 * store failed (`store_failure`), a lockout that refused a blocked key (`lockout`), or the
 * `cardinality` option's limit.
 *
 * @example
 * ```ts
 * const engine: DecisionEngine = 'quota';
 * ```
 */
export type DecisionEngine =
  | 'quota'
  | 'window'
  | 'concurrency'
  | 'store_failure'
  | 'lockout'
  | 'cardinality';

/**
 * How a decision ended: `admitted`; `refused` (enforced); or `shadow_refused`, a refusal that
 * was reported and not enforced (a rule with `shadow: true`, or an HTTP stage in shadow mode or
 * outside its `enforce` rollout).
 *
 * @example
 * ```ts
 * const refusedForReal = (outcome: DecisionOutcome) => outcome === 'refused';
 * ```
 */
export type DecisionOutcome = 'admitted' | 'refused' | 'shadow_refused';

/**
 * One decision, published on {@link DECISION_CHANNEL}.
 *
 * - `Quotas.isRateLimited`: one message per call (`engine: 'quota'`), including the calls the
 *   rejection cache answers (`fromCache: true`) and the reject-all (`limit: 0`) quotas.
 * - `SlidingWindowRateLimiter.checkAndUseQuotas` and `checkWithinQuotas`: one message per
 *   requested quota (`engine: 'window'`); `useQuotas` only counts and publishes nothing.
 * - `ConcurrencyLimiter.acquire` (and `run`): one message when a lease is granted or the wait
 *   ends without one (`engine: 'concurrency'`); a call aborted by its signal publishes nothing.
 * - Over HTTP, each of those engine calls publishes its own message (an envelope of three
 *   categories on a stage with quotas is three quota decisions), and a store failure adds one
 *   `store_failure` decision saying what `onStoreError` did. The `lockout` option publishes one
 *   message when it refuses a blocked key (`fromCache`: answered from the process's memory of
 *   blocks); the `cardinality` option one per request that brings values.
 *
 * A call that fails (invalid configuration, store unavailable) publishes no decision: the
 * store failure is on `sluice:store`.
 *
 * @example
 * ```ts
 * subscribe(DECISION_CHANNEL, (message) => {
 *   const { engine, outcome, rule, limit, remaining } = message as DecisionMessage;
 *   if (outcome === 'admitted' && limit !== undefined && remaining! < limit * 0.2) {
 *     console.log(`${engine} ${rule} is near its limit`);
 *   }
 * });
 * ```
 */
export interface DecisionMessage {
  /** What decided. */
  readonly engine: DecisionEngine;
  /** How it ended. */
  readonly outcome: DecisionOutcome;
  /**
   * The rule that bound the decision: for a refusal, the one that refused (a quota's `id`,
   * `window_<windowSeconds>s`, `concurrency`); for an admission, the enforced rule left with
   * the fewest units (the one nearest its limit). Absent when no limited rule applied.
   */
  readonly rule?: string;
  /**
   * The bound rule's reason code (`project_quota`, `sliding_window` or the stage's
   * `windows.reasonCode`, `concurrency_limit`, `store_unavailable`).
   */
  readonly reason?: string;
  /** The data category decided, when the call named one. */
  readonly category?: string;
  /** True when the answer came from the in-process rejection cache, without a store call. */
  readonly fromCache: boolean;
  /**
   * True when the bound rule or the whole decision is in shadow: what it would refuse is
   * reported (`outcome: 'shadow_refused'`), never enforced.
   */
  readonly shadow: boolean;
  /** True when the decision was made on the local fallback store instead of the shared one. */
  readonly local: boolean;
  /** The bound rule's limit (units per window, or leases), when known. */
  readonly limit?: number;
  /** Units (or leases) the bound rule has left after this decision, when known. */
  readonly remaining?: number;
  /**
   * The project decided for, as the caller gave it (quotas, and every decision over HTTP). A
   * subscriber may read it; the OpenTelemetry bridge never makes it an attribute unless asked.
   */
  readonly project?: Project;
  /** The concurrency key, or the sliding-window request's prefix. */
  readonly key?: string;
}

/**
 * The decision channel itself: engines check its `hasSubscribers` before building a message,
 * so a decision without a subscriber builds nothing and costs one property read.
 *
 * @example
 * ```ts
 * if (decisionChannel.hasSubscribers) decisionChannel.publish(message);
 * ```
 */
export const decisionChannel = channel(DECISION_CHANNEL);

/**
 * How a caller above the engine decides, for its messages: the HTTP layer passes whether the
 * stage is in shadow for this request and the project, category and reason code it decides
 * with; an engine called directly uses {@link ENGINE_SCOPE}. Internal: not exported from the
 * package.
 *
 * @example
 * ```ts
 * const scope: DecisionScope = { shadow: true, local: false, project, category: 'error' };
 * ```
 */
export interface DecisionScope {
  /** The whole decision enforces nothing: every refusal is a `shadow_refused`. */
  readonly shadow: boolean;
  /** Decided on the local fallback store. */
  readonly local: boolean;
  /** The project, for engines that do not take one. */
  readonly project?: Project;
  /** The category, for engines that do not take one. */
  readonly category?: string;
  /** The reason code the caller reports this engine's refusals with. */
  readonly reason?: string;
}

/**
 * The scope of an engine called directly: enforced, on the store it was given.
 *
 * @example
 * ```ts
 * limiter.acquire(key); // decides in ENGINE_SCOPE
 * ```
 */
export const ENGINE_SCOPE: DecisionScope = Object.freeze({ shadow: false, local: false });

/**
 * The scope a caller hands an engine for one decision: what it says (`shadow`, `local`, the
 * project and, where given, the reason and category) when `sluice:decision` has a subscriber,
 * and the shared {@link ENGINE_SCOPE} otherwise, so nothing is built for nobody.
 *
 * @example
 * ```ts
 * const lease = await acquireSlot(concurrency, slotKey, decisionScope(shadow, local, project));
 * ```
 */
export function decisionScope(
  shadow: boolean,
  local: boolean,
  project: Project,
  reason?: string,
  category?: string,
): DecisionScope {
  if (!decisionChannel.hasSubscribers) return ENGINE_SCOPE;
  if (reason === undefined) return { shadow, local, project };
  return category === undefined
    ? { shadow, local, project, reason }
    : { shadow, local, project, reason, category };
}

/**
 * `refused`, or `shadow_refused` when the refusal is not enforced.
 *
 * @example
 * ```ts
 * refusal(scope.shadow || quota.shadow === true); // 'shadow_refused'
 * ```
 */
export function refusal(shadow: boolean): DecisionOutcome {
  return shadow ? 'shadow_refused' : 'refused';
}
