import type { StoreUnavailableError } from '../errors.js';
import { type DecisionMessage, decisionChannel, refusal } from '../metrics/decision-channel.js';
import { type Answer, errorAnswer, SLUICE_HEADERS } from './answers.js';
import type { RequestEvents } from './request-events.js';
import type { RequestState } from './request-state.js';

/**
 * Reason code of a request denied because the store failed (`onStoreError: 'deny'`).
 *
 * @example
 * ```ts
 * answer.headers['X-Sentry-Rate-Limit-Reason'] === STORE_UNAVAILABLE; // a denied request
 * ```
 */
export const STORE_UNAVAILABLE = 'store_unavailable';

/**
 * `Retry-After`, in seconds, of a request denied because the store failed.
 *
 * @example
 * ```ts
 * answer.headers['Retry-After'] === String(STORE_UNAVAILABLE_RETRY_SECONDS); // '1'
 * ```
 */
export const STORE_UNAVAILABLE_RETRY_SECONDS = 1;

/**
 * What a stage does when the store fails or misses its deadline, made visible: `store_error`
 * once per request, a `store_failure` message on `sluice:decision` per stage, then `allow` admits (and so does shadow mode), `deny` drops the request
 * (`event_dropped` with {@link STORE_UNAVAILABLE}) and answers 503.
 *
 * @example
 * ```ts
 * const policy = new StoreFailurePolicy('deny', events, { 'Access-Control-Expose-Headers': exposed });
 * const denied = policy.decide(state, error, false); // the 503, or undefined to go on
 * ```
 */
export class StoreFailurePolicy {
  readonly policy: 'allow' | 'deny';
  readonly #events: RequestEvents;
  readonly #headers: Record<string, string>;

  /** `headers` go on the 503 (the stage's common headers). */
  constructor(policy: 'allow' | 'deny', events: RequestEvents, headers: Record<string, string>) {
    this.policy = policy;
    this.#events = events;
    this.#headers = headers;
  }

  /** Reports `error` for the request of `state`; returns the 503 when the policy denies. */
  decide(state: RequestState, error: StoreUnavailableError, shadow: boolean): Answer | undefined {
    this.#events.storeError(state, error, this.policy);
    if (decisionChannel.hasSubscribers) {
      decisionChannel.publish({
        engine: 'store_failure',
        outcome: this.policy === 'allow' ? 'admitted' : refusal(shadow),
        rule: undefined,
        reason: STORE_UNAVAILABLE,
        category: undefined,
        fromCache: false,
        shadow,
        local: false,
        limit: undefined,
        remaining: undefined,
        project: state.project,
        key: undefined,
      } satisfies DecisionMessage);
    }
    if (this.policy === 'allow' || shadow) return undefined;
    this.#events.dropped(
      state,
      {
        quantity: 0,
        reasonCode: STORE_UNAVAILABLE,
        retryAfter: STORE_UNAVAILABLE_RETRY_SECONDS,
      },
      false,
      undefined,
    );
    const answer = errorAnswer(503, 'rate limiting is unavailable', this.#headers);
    return {
      ...answer,
      headers: {
        ...answer.headers,
        [SLUICE_HEADERS.reason]: STORE_UNAVAILABLE,
        [SLUICE_HEADERS.retryAfter]: String(STORE_UNAVAILABLE_RETRY_SECONDS),
      },
    };
  }
}
