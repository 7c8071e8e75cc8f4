import type { Lease } from '../concurrency/lease.js';
import type { Project } from '../quotas/quota-config.js';
import type { DroppedItem } from './dropped-items.js';
import type { RequestItem } from './http-options.js';
import type { SettledResponse } from './outcome-counting.js';
import type { RequestState } from './request-state.js';

/**
 * What the limiter decided for a request that goes on to its handler.
 *
 * @example
 * ```ts
 * const outcome: RequestOutcome = req.sluice;
 * for (const item of outcome.dropped) log.info(`dropped ${item.category}: ${item.reasonCode}`);
 * outcome.releaseOnClose(res);
 * ```
 */
export interface RequestOutcome {
  readonly project: Project;
  readonly key?: string;
  readonly ip: string;
  /** Items admitted (all of them in shadow mode). */
  readonly accepted: RequestItem[];
  /** Items refused; their categories are listed in `X-Sentry-Rate-Limits`. */
  readonly dropped: DroppedItem[];
  /** True when nothing was enforced for this request. */
  readonly shadow: boolean;
  /** Present (true) when decided on the local store while the store fails (`onStoreError: 'local'`). */
  readonly local?: true;
  /** Gives back the concurrency slot; call it when the response ends. Idempotent. */
  release(): Promise<void>;
  /**
   * Gives back the concurrency slot when `response` (Node's `ServerResponse`) closes, which it
   * does when it finishes, fails or the client disconnects; at once if it already has. With
   * `skipFailedRequests` or `skipSuccessfulRequests`, also gives back what the request counted
   * when its outcome says so.
   */
  releaseOnClose(response: ClosingResponse): void;
}

/**
 * What {@link RequestOutcome.releaseOnClose} needs of Node's `ServerResponse`.
 *
 * @example
 * ```ts
 * const response: ClosingResponse = res; // an http.ServerResponse
 * outcome.releaseOnClose(response);
 * ```
 */
export interface ClosingResponse extends SettledResponse {
  readonly closed: boolean;
  once(event: 'close', listener: () => void): unknown;
}

const RESOLVED = Promise.resolve();
const releaseNothing = () => RESOLVED;

/**
 * Gives back `lease` (a concurrency place; null: the stage held none) for a request that is
 * refused; never rejects.
 *
 * @example
 * ```ts
 * await releaseLease(lease);
 * return { action: 'respond', answer: rateLimitedAnswer(limits, headers) };
 * ```
 */
export function releaseLease(lease: Lease | null): Promise<void> {
  return lease === null ? RESOLVED : lease.release().catch(() => undefined);
}

/**
 * The outcome handed to the handler of an admitted request of `state`: the items as the stage
 * decided them (in shadow mode all `accepted`, none `dropped`), and the release of `lease`.
 *
 * @example
 * ```ts
 * const outcome = requestOutcome(state, accepted, dropped, false, lease); // settle: see outcome-counting.ts
 * res.once('close', () => void outcome.release());
 * ```
 */
export function requestOutcome(
  state: RequestState,
  accepted: RequestItem[],
  dropped: DroppedItem[],
  shadow: boolean,
  lease: Lease | null,
  settle?: (response: SettledResponse) => void,
): RequestOutcome {
  const release = lease === null ? releaseNothing : () => lease.release().catch(() => undefined);
  const closed =
    settle === undefined
      ? undefined
      : (response: ClosingResponse) => () => {
          void release();
          settle(response);
        };
  const outcome: { -readonly [K in keyof RequestOutcome]: RequestOutcome[K] } = {
    project: state.project,
    ip: state.ip,
    accepted,
    dropped,
    shadow,
    release,
    releaseOnClose: (response) => {
      if (closed !== undefined) {
        if (response.closed) closed(response)();
        else response.once('close', closed(response));
        return;
      }
      if (lease === null) return;
      if (response.closed) void release();
      else response.once('close', () => void release());
    },
  };
  if (state.key !== undefined) outcome.key = state.key;
  if (state.local) outcome.local = true;
  return outcome;
}
