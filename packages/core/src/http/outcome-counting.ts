import { InvalidConfiguration } from '../errors.js';
import type { RequestItem, SluiceOptions } from './http-options.js';
import type { SluiceRequest } from './http-request.js';
import type { RequestEvents } from './request-events.js';
import type { RequestState } from './request-state.js';
import type { StageQuotas } from './stage-quotas.js';

/**
 * Which admitted requests give back what they counted once their response is known
 * (express-rate-limit's `skipFailedRequests` and `skipSuccessfulRequests`); undefined on a
 * stage that counts every admitted request, so that stage pays nothing per response.
 *
 * @example
 * ```ts
 * const counting: OutcomeCounting = { skipFailed: true, skipSuccessful: false, wasSuccessful: undefined };
 * ```
 */
export interface OutcomeCounting {
  readonly skipFailed: boolean;
  readonly skipSuccessful: boolean;
  /** The app's `requestWasSuccessful`; undefined: a status below 400, and not closed early. */
  readonly wasSuccessful: SluiceOptions['requestWasSuccessful'];
}

/**
 * What counting by outcome reads of Node's `ServerResponse` once it has closed.
 *
 * @example
 * ```ts
 * const response: SettledResponse = res; // an http.ServerResponse
 * ```
 */
export interface SettledResponse {
  readonly statusCode: number;
  /** False when the response closed before it was ended (the client went away first). */
  readonly writableEnded: boolean;
}

/**
 * Resolves `skipFailedRequests`, `skipSuccessfulRequests` and `requestWasSuccessful` once
 * (checked with the other options, `stage-validation.ts`): undefined unless a skip is on.
 *
 * @example
 * ```ts
 * resolveOutcomeCounting({ identify, skipFailedRequests: true }); // { skipFailed: true, ... }
 * resolveOutcomeCounting({ identify }); // undefined
 * ```
 */
export function resolveOutcomeCounting(options: SluiceOptions): OutcomeCounting | undefined {
  const { skipFailedRequests, skipSuccessfulRequests, requestWasSuccessful } = options;
  if (skipFailedRequests !== true && skipSuccessfulRequests !== true) return undefined;
  return {
    skipFailed: skipFailedRequests === true,
    skipSuccessful: skipSuccessfulRequests === true,
    wasSuccessful: requestWasSuccessful,
  };
}

/**
 * True when the request's counts go back: its response failed (closed before it was sent, or
 * not successful by `requestWasSuccessful` or a status below 400) and failures are skipped, or
 * it succeeded and successes are. A `requestWasSuccessful` that throws counts the request (it
 * is reported to `report`).
 *
 * @example
 * ```ts
 * if (givesBack(counting, req, res, report)) await quotas.refund(project, req, call, false);
 * ```
 */
export function givesBack(
  counting: OutcomeCounting,
  req: SluiceRequest,
  response: SettledResponse,
  report: (error: InvalidConfiguration) => void,
): boolean {
  let succeeded: boolean;
  if (!response.writableEnded) succeeded = false;
  else if (counting.wasSuccessful === undefined) succeeded = response.statusCode < 400;
  else {
    try {
      succeeded = counting.wasSuccessful(req, { statusCode: response.statusCode }) === true;
    } catch (error) {
      report(
        new InvalidConfiguration('requestWasSuccessful()', error, 'a function that does not throw'),
      );
      return false;
    }
  }
  return succeeded ? counting.skipSuccessful : counting.skipFailed;
}

/**
 * What runs once the response of an admitted request has closed, with `skipFailedRequests` or
 * `skipSuccessfulRequests`: gives back what its `accepted` items counted on the stage's quotas
 * when its outcome says so; undefined when there is nothing to give back. Sliding windows keep
 * their counts (they have no refund).
 *
 * @example
 * ```ts
 * const settle = settleByOutcome(stage.counting, engines.quotas, req, state, accepted, events);
 * const outcome = requestOutcome(state, accepted, dropped, false, lease, settle);
 * ```
 */
export function settleByOutcome(
  counting: OutcomeCounting | undefined,
  quotas: StageQuotas | undefined,
  req: SluiceRequest,
  state: RequestState,
  accepted: readonly RequestItem[],
  events: RequestEvents,
): ((response: SettledResponse) => void) | undefined {
  if (counting === undefined || quotas === undefined || accepted.length === 0) return undefined;
  const { project, key } = state;
  return (response) => {
    const report = (error: InvalidConfiguration) => events.configError(error, project);
    if (!givesBack(counting, req, response, report)) return;
    for (const { category, quantity } of accepted) {
      // A refund the store fails leaves the request counted: the side that never over-admits.
      quotas.refund(project, req, { key, category, quantity }, false).catch(() => undefined);
    }
  };
}
