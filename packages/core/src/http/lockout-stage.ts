import { InvalidConfiguration, isStoreUnavailable, type StoreUnavailableError } from '../errors.js';
import { Lockout } from '../lockout/lockout.js';
import { resolveLockoutOptions } from '../lockout/lockout-options.js';
import { type DecisionScope, decisionChannel, refusal } from '../metrics/decision-channel.js';
import type { Project } from '../quotas/quota-config.js';
import type { ExceededLimit } from '../quotas/rate-limit.js';
import type { Store } from '../store/store.js';
import { headerToken, optionalBoolean } from '../validate.js';
import type { LockoutHttpOptions } from './http-options.js';
import type { SluiceRequest } from './http-request.js';
import { LOCKOUT_HTTP_OPTION_NAMES } from './option-names.js';
import { optionalFunction } from './stage-validation.js';

/**
 * Reason code of a request refused because its key is locked out, unless `lockout.reasonCode`
 * says otherwise.
 *
 * @example
 * ```ts
 * sluice({ resolveProject, quotas, lockout: { after: 10, withinSeconds: 60, blockSeconds: 300 } });
 * // a locked-out client gets X-Sentry-Rate-Limit-Reason: lockout (DEFAULT_LOCKOUT_REASON_CODE)
 * ```
 */
export const DEFAULT_LOCKOUT_REASON_CODE = 'lockout';

/**
 * A stage's lockout, built once: the engine, whose key a request counts against and how a
 * block is answered.
 *
 * @example
 * ```ts
 * const seconds = await stageLockout.engine.blocked(plan.lockoutKey);
 * if (seconds > 0) refusals.fill([lockoutLimit(stageLockout, seconds)]);
 * ```
 */
export interface StageLockout {
  readonly engine: Lockout;
  /** The lockout key of a request (the project id unless `lockout.key` is given). */
  readonly key: (req: SluiceRequest, project: Project) => string;
  readonly reasonCode: string;
  /** `X-Sentry-Rate-Limits` scope: `project` for the default key, `key` for the app's own. */
  readonly scope: 'project' | 'key';
  /** Report a block without enforcing it. */
  readonly shadow: boolean;
}

/**
 * Checks the `lockout` option, at construction; throws {@link InvalidConfiguration} naming
 * the option (`lockout.after`).
 *
 * @example
 * ```ts
 * validateLockoutOption({ after: 10, withinSeconds: 60, blockSeconds: 300, backoff: 2 }); // fine
 * validateLockoutOption({ after: 10, withinSeconds: 60 }); // throws naming `lockout.blockSeconds`
 * ```
 */
export function validateLockoutOption(lockout: LockoutHttpOptions): void {
  resolveLockoutOptions(lockout, 'lockout', LOCKOUT_HTTP_OPTION_NAMES);
  optionalFunction('lockout.key', lockout.key);
  if (lockout.reasonCode !== undefined) headerToken('lockout.reasonCode', lockout.reasonCode);
  optionalBoolean('lockout.shadow', lockout.shadow);
}

/** The lockout key when `lockout.key` is not given: the project id. */
function projectLockoutKey(_req: SluiceRequest, project: Project): string {
  return String(project.id);
}

/**
 * The lockouts of one limiter, by `lockout` options object and store: the stages that share
 * both (a route merged over the limiter's options) share one engine, so one memory of blocks
 * and one reset.
 *
 * @example
 * ```ts
 * const lockouts: LockoutEngines = new WeakMap();
 * const stageLockout = buildStageLockout(options.lockout, store, lockouts);
 * ```
 */
export type LockoutEngines = WeakMap<LockoutHttpOptions, Map<Store, Lockout>>;

/**
 * Builds the stage's lockout from validated options on `store`, reusing the engine of
 * `engines` built for the same options and store.
 *
 * @example
 * ```ts
 * const stageLockout = buildStageLockout({ after: 5, withinSeconds: 60, blockSeconds: 60 }, store, new WeakMap());
 * ```
 */
export function buildStageLockout(
  lockout: LockoutHttpOptions,
  store: Store,
  engines: LockoutEngines,
): StageLockout {
  let byStore = engines.get(lockout);
  if (byStore === undefined) {
    byStore = new Map();
    engines.set(lockout, byStore);
  }
  let engine = byStore.get(store);
  if (engine === undefined) {
    const { key: _key, reasonCode: _reasonCode, shadow: _shadow, ...options } = lockout;
    engine = new Lockout(store, options);
    byStore.set(store, engine);
  }
  return {
    engine,
    key: lockout.key ?? projectLockoutKey,
    reasonCode: lockout.reasonCode ?? DEFAULT_LOCKOUT_REASON_CODE,
    scope: lockout.key === undefined ? 'project' : 'key',
    shadow: lockout.shadow === true,
  };
}

/**
 * What refuses a locked-out request: every category, for the block's remaining `seconds`.
 *
 * @example
 * ```ts
 * lockoutLimit(stageLockout, 42.5); // { retryAfter: 42.5, categories: [], scope: 'project', reasonCode: 'lockout' }
 * ```
 */
export function lockoutLimit(lockout: StageLockout, seconds: number): ExceededLimit {
  return {
    retryAfter: seconds,
    categories: [],
    scope: lockout.scope,
    reasonCode: lockout.reasonCode,
  };
}

/**
 * Counts a request against its lockout key when a rule refused any of its items (`refusals[i]`
 * not empty), and when that blocks the key (and the lockout enforces), adds the block to each
 * refused item's limits, so the answer already tells the client how long it is locked out. A
 * store failure here is reported through `onStoreError` and changes nothing else: the request
 * is refused by its rule all the same.
 *
 * @example
 * ```ts
 * await countRefusal(stageLockout, plan.lockoutKey, refusals, (error) => events.storeError(state, error, 'allow'));
 * ```
 */
export async function countRefusal(
  lockout: StageLockout,
  key: string,
  refusals: (readonly ExceededLimit[])[],
  onStoreError: (error: StoreUnavailableError) => void,
): Promise<void> {
  if (refusals.every((list) => list.length === 0)) return;
  let blockedFor: number;
  try {
    blockedFor = (await lockout.engine.recordRefusal(key)).retryAfter;
  } catch (error) {
    if (!isStoreUnavailable(error)) throw error;
    onStoreError(error as StoreUnavailableError);
    return;
  }
  if (blockedFor === 0 || lockout.shadow) return;
  const limit = lockoutLimit(lockout, blockedFor);
  for (let i = 0; i < refusals.length; i++) {
    const list = refusals[i]!;
    if (list.length > 0) refusals[i] = [...list, limit];
  }
}

/**
 * Seconds `key` stays locked out (0: not locked out): from this process's memory of blocks
 * without a store call, else from the store. A block is published on `sluice:decision` as the
 * lockout's refusal in `scope` (shadow when the stage or the lockout is), when it has
 * subscribers.
 *
 * @example
 * ```ts
 * const seconds = await blockedSeconds(stageLockout, plan.lockoutKey, { shadow: false, local: false, project });
 * if (seconds > 0) refusals.fill([lockoutLimit(stageLockout, seconds)]);
 * ```
 */
export async function blockedSeconds(
  lockout: StageLockout,
  key: string,
  scope: DecisionScope,
): Promise<number> {
  const remembered = lockout.engine.remembered(key);
  const seconds = remembered > 0 ? remembered : await lockout.engine.blocked(key);
  if (seconds > 0 && decisionChannel.hasSubscribers) {
    publishLockoutDecision(lockout, key, remembered > 0, {
      ...scope,
      shadow: scope.shadow || lockout.shadow,
    });
  }
  return seconds;
}

/** Publishes on `sluice:decision` that the lockout refused (or would have refused) `key`. */
function publishLockoutDecision(
  lockout: StageLockout,
  key: string,
  fromMemory: boolean,
  scope: DecisionScope,
): void {
  decisionChannel.publish({
    engine: 'lockout',
    outcome: refusal(scope.shadow),
    rule: 'lockout',
    reason: lockout.reasonCode,
    fromCache: fromMemory,
    shadow: scope.shadow,
    local: scope.local,
    ...(scope.project === undefined ? {} : { project: scope.project }),
    key,
  });
}
