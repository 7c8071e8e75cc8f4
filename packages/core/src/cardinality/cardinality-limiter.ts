import { InvalidConfiguration, StoreUnavailableError } from '../errors.js';
import type { Quota } from '../sliding-window/quota.js';
import { timestampMs } from '../sliding-window/requests.js';
import { hashTag } from '../store/key-parts.js';
import { onlyAStore, type Store, storeOption } from '../store/store.js';
import {
  type CardinalityMode,
  type CardinalityReply,
  cardinalityOperation,
  type PlannedValues,
  type ValuesAnswer,
} from './cardinality-operation.js';
import {
  type CardinalityGrant,
  type CardinalityRequest,
  cardinalityQuota,
  scopePrefix,
  type ValidCardinalityRequest,
  validateCardinalityGrants,
  validateCardinalityRequests,
} from './cardinality-requests.js';
import { resetValuesOperation } from './cardinality-reset.js';
import { valueHash } from './value-hash.js';

/**
 * The key of a scope's window: `<store prefix>:card:{<scope>}:<window ms>:<granularity ms>`,
 * the scope escaped as a hash tag, so every window of a scope lives in one Cluster hash slot.
 *
 * @example
 * ```ts
 * cardinalityKey('sluice', 'org:1', new Quota({ windowSeconds: 60, granularitySeconds: 10, limit: 5 }));
 * // 'sluice:card:{org%003a1}:60000:10000'
 * ```
 */
export function cardinalityKey(storePrefix: string, scope: string, quota: Quota): string {
  const windowMs = quota.granularityMs * quota.granulesPerWindow;
  return `${storePrefix}:card:${hashTag(scope)}:${windowMs}:${quota.granularityMs}`;
}

/** One store call: the windows of one scope and its requests, by index in the caller's list. */
interface ScopeCall {
  readonly keys: string[];
  readonly indexes: number[];
  readonly requests: PlannedValues[];
}

/**
 * Limits how many distinct values (metric names, user ids, release names ...) a scope may
 * introduce per sliding window, in the model of sentry-redis-tools' `CardinalityLimiter` and
 * Relay's cardinality limits: a value the window already tracks is always admitted (and
 * tracked on from now); a new one is admitted while the window tracks fewer than `limit`
 * values, and refused past it. Denial is a value: the refused values, never an exception.
 *
 * `checkAndUseQuotas` decides and records each scope's values in one atomic store step (one
 * Lua script per scope on Redis, one hash slot per scope on a Cluster), so no concurrency can
 * admit more than `limit` distinct values. `checkWithinQuotas` then `useQuotas` record only
 * what the protected work really used, at the price of possible over-admission between them.
 * Values are tracked as 53-bit hashes (see `docs/cardinality.md` for what a collision does).
 *
 * @example
 * ```ts
 * const limiter = new CardinalityLimiter(new MemoryStore());
 * const quota = new Quota({ windowSeconds: 3600, granularitySeconds: 60, limit: 2 });
 * const [grant] = await limiter.checkAndUseQuotas([
 *   { prefix: 'org:1', values: ['cpu', 'mem', 'disk', 'cpu'], quota },
 * ]);
 * // grant.grantedValues: ['cpu', 'mem', 'cpu'], grant.refusedValues: ['disk']
 * ```
 */
export class CardinalityLimiter {
  /** Where the tracked values live. */
  readonly store: Store;

  constructor(store: Store, ...unexpected: never[]) {
    this.store = storeOption('store', store);
    onlyAStore('CardinalityLimiter', unexpected);
  }

  /**
   * Decides each request's values without recording anything: which would be admitted, in
   * order, and each request's admissions count for the later requests of the scope. Resolves
   * to the timestamp used (seconds; the store's time when none was given), to pass to
   * {@link CardinalityLimiter.useQuotas}, and one grant per request.
   *
   * @example
   * ```ts
   * const [timestamp, grants] = await limiter.checkWithinQuotas(requests);
   * const written = await writeSeries(grants[0].grantedValues);
   * await limiter.useQuotas(requests, [{ ...grants[0], grantedValues: written }], timestamp);
   * ```
   */
  async checkWithinQuotas(
    requests: CardinalityRequest[],
    timestamp?: number,
  ): Promise<[timestamp: number, grants: CardinalityGrant[]]> {
    const valid = validateCardinalityRequests(requests);
    const { nowUs, grants } = await this.#decide(valid, 'check', timestampMs(timestamp));
    return [timestamp ?? nowUs / 1e6, grants];
  }

  /**
   * Records the values `grants` granted (as {@link CardinalityLimiter.checkWithinQuotas}
   * returned them, possibly fewer) as admitted at `timestamp` (seconds), refusing none.
   *
   * @example
   * ```ts
   * await limiter.useQuotas(requests, grants, timestamp);
   * ```
   */
  async useQuotas(
    requests: CardinalityRequest[],
    grants: CardinalityGrant[],
    timestamp: number,
  ): Promise<void> {
    const valid = validateCardinalityRequests(requests);
    const granted = validateCardinalityGrants(valid, grants);
    const ms = timestampMs(timestamp);
    if (ms === undefined) {
      throw new InvalidConfiguration(
        'timestamp',
        timestamp,
        'the timestamp checkWithinQuotas returned',
      );
    }
    const used = valid.map((request, i) => ({ ...request, values: granted[i]! }));
    await this.#decide(used, 'use', ms);
  }

  /**
   * Decides and records in one atomic step per scope: each value the window tracks is
   * admitted, each new one while the window tracks fewer than `limit`, and what is admitted
   * is recorded at once, so concurrent callers never admit more than `limit` distinct values.
   *
   * @example
   * ```ts
   * const [grant] = await limiter.checkAndUseQuotas([{ prefix: 'org:1', values, quota }]);
   * if (grant.refusedValues.length > 0) console.log(`new values fit again in ${grant.retryAfter} s`);
   * ```
   */
  async checkAndUseQuotas(
    requests: CardinalityRequest[],
    timestamp?: number,
  ): Promise<CardinalityGrant[]> {
    const valid = validateCardinalityRequests(requests);
    return (await this.#decide(valid, 'checkAndUse', timestampMs(timestamp))).grants;
  }

  /**
   * Forgets every value that the window of `quota` tracks for `prefix`, so each is new again;
   * resolves to how many it tracked. Other windows of the scope keep theirs.
   *
   * @example
   * ```ts
   * await limiter.reset('org:123', quota); // org:123 may introduce `quota.limit` values again
   * ```
   */
  async reset(prefix: string, quota: Quota): Promise<number> {
    const scope = scopePrefix('prefix', prefix);
    const window = cardinalityQuota('quota', quota);
    return this.store.run(resetValuesOperation, {
      key: cardinalityKey(this.store.prefix, scope, window),
      granularityMs: window.granularityMs,
      granules: window.granulesPerWindow,
    });
  }

  /** Runs one store call per scope (all at once) and assembles the grants in request order. */
  async #decide(
    requests: readonly ValidCardinalityRequest[],
    mode: CardinalityMode,
    atMs: number | undefined,
  ): Promise<{ nowUs: number; grants: CardinalityGrant[] }> {
    const calls = this.#plan(requests);
    const replies = await Promise.all(
      calls.map((call) => this.store.run(cardinalityOperation, { mode, ...call }, atMs)),
    );
    const grants: CardinalityGrant[] = new Array(requests.length);
    calls.forEach((call, c) => {
      const reply: CardinalityReply = replies[c]!;
      call.indexes.forEach((index, r) => {
        const answer = reply.answers[r];
        if (answer?.admitted.length !== call.requests[r]!.hashes.length) {
          throw new StoreUnavailableError(
            `${cardinalityOperation.name} answered ${reply.answers.length} rows for ${call.requests.length} requests, or a row of another length`,
            { timedOut: false },
          );
        }
        grants[index] = grantOf(requests[index]!, answer);
      });
    });
    return { nowUs: replies[0]?.nowUs ?? 0, grants };
  }

  /** Groups requests by scope; a call without requests still makes one call, for the time. */
  #plan(requests: readonly ValidCardinalityRequest[]): ScopeCall[] {
    const scopes = new Map<string, ScopeCall & { windows: Map<string, number> }>();
    requests.forEach((request, index) => {
      let scope = scopes.get(request.prefix);
      if (scope === undefined) {
        scope = { keys: [], indexes: [], requests: [], windows: new Map() };
        scopes.set(request.prefix, scope);
      }
      const key = cardinalityKey(this.store.prefix, request.prefix, request.quota);
      let window = scope.windows.get(key);
      if (window === undefined) {
        scope.keys.push(key);
        window = scope.keys.length;
        scope.windows.set(key, window);
      }
      scope.indexes.push(index);
      scope.requests.push({
        window,
        granularityMs: request.quota.granularityMs,
        granules: request.quota.granulesPerWindow,
        limit: request.quota.limit,
        hashes: request.values.map(valueHash),
      });
    });
    const calls: ScopeCall[] = [...scopes.values()].map(({ keys, indexes, requests: r }) => ({
      keys,
      indexes,
      requests: r,
    }));
    return calls.length > 0 ? calls : [{ keys: [], indexes: [], requests: [] }];
  }
}

/** The grant of `request` from its store call's answer. */
function grantOf(request: ValidCardinalityRequest, answer: ValuesAnswer): CardinalityGrant {
  const grantedValues: string[] = [];
  const refusedValues: string[] = [];
  request.values.forEach((value, i) => {
    (answer.admitted[i] === 1 ? grantedValues : refusedValues).push(value);
  });
  const grant: CardinalityGrant = {
    prefix: request.prefix,
    grantedValues,
    refusedValues,
    cardinality: answer.cardinality,
  };
  if (refusedValues.length > 0) {
    grant.reachedQuota = request.named;
    grant.retryAfter = answer.retryMs < 0 ? Number.POSITIVE_INFINITY : answer.retryMs / 1000;
  }
  return grant;
}
