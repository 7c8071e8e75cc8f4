import { CardinalityLimiter } from '../cardinality/cardinality-limiter.js';
import { cardinalityQuota } from '../cardinality/cardinality-requests.js';
import { InvalidConfiguration } from '../errors.js';
import { type DecisionScope, decisionChannel, refusal } from '../metrics/decision-channel.js';
import type { Project } from '../quotas/quota-config.js';
import type { ExceededLimit } from '../quotas/rate-limit.js';
import type { Quota } from '../sliding-window/quota.js';
import type { Store } from '../store/store.js';
import { headerToken, optionalBoolean, optionsObject } from '../validate.js';
import { REJECT_ALL_SECONDS } from './header-values.js';
import type { CardinalityHttpOptions } from './http-options.js';
import type { SluiceRequest } from './http-request.js';
import { CARDINALITY_OPTION_NAMES } from './option-names.js';

/**
 * Reason code of a request refused for bringing a new value past the cardinality limit, unless
 * `cardinality.reasonCode` says otherwise.
 *
 * @example
 * ```ts
 * sluice({ resolveProject, cardinality: { scope, values, quota } });
 * // a refused request gets X-Sentry-Rate-Limit-Reason: cardinality_limit
 * ```
 */
export const DEFAULT_CARDINALITY_REASON_CODE = 'cardinality_limit';

/**
 * Most values one request may bring; more is a 400 (the values come from the client).
 *
 * @example
 * ```ts
 * if (values.length > MAX_CARDINALITY_VALUES) return { ok: false, message: 'too many values' };
 * ```
 */
export const MAX_CARDINALITY_VALUES = 1000;

/**
 * A stage's cardinality limit, built once.
 *
 * @example
 * ```ts
 * const refused = await decideCardinality(stageCardinality, plan.cardinality);
 * ```
 */
export interface StageCardinality {
  readonly limiter: CardinalityLimiter;
  readonly scope: (req: SluiceRequest, project: Project) => string;
  readonly values: (req: SluiceRequest, project: Project) => readonly string[];
  readonly quota: Quota;
  readonly reasonCode: string;
  /** Report a refusal without enforcing it. */
  readonly shadow: boolean;
}

/**
 * Checks the `cardinality` option, at construction; throws {@link InvalidConfiguration}
 * naming the option (`cardinality.quota.limit`).
 *
 * @example
 * ```ts
 * validateCardinalityOption({ scope: (_req, p) => `p${p.id}`, values: (req) => tags(req), quota }); // fine
 * validateCardinalityOption({ scope: 'p', values, quota } as never); // throws naming `cardinality.scope`
 * ```
 */
export function validateCardinalityOption(cardinality: CardinalityHttpOptions): void {
  optionsObject('cardinality', cardinality, CARDINALITY_OPTION_NAMES);
  for (const name of ['scope', 'values'] as const) {
    if (typeof cardinality[name] !== 'function') {
      throw new InvalidConfiguration(`cardinality.${name}`, cardinality[name], 'a function');
    }
  }
  cardinalityQuota('cardinality.quota', cardinality.quota);
  if (cardinality.reasonCode !== undefined) {
    headerToken('cardinality.reasonCode', cardinality.reasonCode);
  }
  optionalBoolean('cardinality.shadow', cardinality.shadow);
}

/**
 * Builds the stage's cardinality limit from validated options on `store`.
 *
 * @example
 * ```ts
 * const stageCardinality = buildStageCardinality({ scope, values, quota }, store);
 * ```
 */
export function buildStageCardinality(
  cardinality: CardinalityHttpOptions,
  store: Store,
): StageCardinality {
  return {
    limiter: new CardinalityLimiter(store),
    scope: cardinality.scope,
    values: cardinality.values,
    quota: cardinalityQuota('cardinality.quota', cardinality.quota),
    reasonCode: cardinality.reasonCode ?? DEFAULT_CARDINALITY_REASON_CODE,
    shadow: cardinality.shadow === true,
  };
}

/**
 * What a request asks of the cardinality limit: its scope (escaped) and its values.
 *
 * @example
 * ```ts
 * const planned: PlannedCardinality = { scope: 'p1', values: ['release-1.2.3'] };
 * ```
 */
export interface PlannedCardinality {
  readonly scope: string;
  readonly values: readonly string[];
}

/**
 * The request's values as `cardinality.values` gives them: an array of strings, else the
 * app's mistake ({@link InvalidConfiguration}); undefined when there are more than
 * {@link MAX_CARDINALITY_VALUES} (the client's doing: a 400).
 *
 * @example
 * ```ts
 * requestValues(['a', 'b']); // ['a', 'b']
 * requestValues('a'); // throws naming `cardinality.values()`
 * ```
 */
export function requestValues(values: unknown): readonly string[] | undefined {
  if (!Array.isArray(values)) {
    throw new InvalidConfiguration('cardinality.values()', values, 'an array of strings');
  }
  if (values.length > MAX_CARDINALITY_VALUES) return undefined;
  for (let i = 0; i < values.length; i++) {
    if (typeof values[i] !== 'string') {
      throw new InvalidConfiguration(`cardinality.values()[${i}]`, values[i], 'a string');
    }
  }
  return values as readonly string[];
}

/**
 * Decides a request's values in one atomic step: resolves to the limit that refuses it (a new
 * value past the limit; values already tracked always pass), or undefined, and publishes the
 * decision on `sluice:decision` in `scope` when it has subscribers. The values are hashed by
 * the engine, never echoed in an answer.
 *
 * @example
 * ```ts
 * const limit = await decideCardinality(stageCardinality, { scope: 'p1', values: ['v9'] }, ENGINE_SCOPE);
 * if (limit !== undefined) refusals.fill([limit]);
 * ```
 */
export async function decideCardinality(
  cardinality: StageCardinality,
  planned: PlannedCardinality,
  scope: DecisionScope,
): Promise<ExceededLimit | undefined> {
  if (planned.values.length === 0) return undefined;
  const { quota } = cardinality;
  const [grant] = await cardinality.limiter.checkAndUseQuotas([
    { prefix: planned.scope, values: planned.values, quota },
  ]);
  const refused = grant !== undefined && grant.refusedValues.length > 0;
  if (decisionChannel.hasSubscribers && grant !== undefined) {
    decisionChannel.publish({
      engine: 'cardinality',
      outcome: refused ? refusal(scope.shadow || cardinality.shadow) : 'admitted',
      rule: `cardinality_${quota.windowSeconds}s`,
      reason: cardinality.reasonCode,
      fromCache: false,
      shadow: scope.shadow || cardinality.shadow,
      local: scope.local,
      ...(scope.project === undefined ? {} : { project: scope.project }),
      limit: quota.limit,
      remaining: Math.max(0, quota.limit - grant.cardinality),
      key: planned.scope,
    });
  }
  if (!refused) return undefined;
  const retryAfter = grant.retryAfter ?? 1;
  return {
    // A limit-0 window never admits a value: Relay's 60 s for reject-all.
    retryAfter: Number.isFinite(retryAfter) ? retryAfter : REJECT_ALL_SECONDS,
    categories: [],
    scope: 'project',
    reasonCode: cardinality.reasonCode,
  };
}
