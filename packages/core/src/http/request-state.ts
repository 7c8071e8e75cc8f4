import type { Project } from '../quotas/quota-config.js';
import type { Identity } from './http-options.js';

/**
 * What the stages of one limiter know of a request once it is identified, kept per framework
 * request (the carrier) so a route stage after the limiter neither identifies it again nor
 * repeats an event.
 *
 * @example
 * ```ts
 * const state = newRequestState({ project, key: 'abc' }, req.ip);
 * states.set(rawRequest, state);
 * ```
 */
export interface RequestState {
  readonly project: Project;
  readonly key: string | undefined;
  readonly ip: string;
  /** `event_accepted` was emitted. */
  accepted: boolean;
  /** `store_error` was emitted. */
  storeErrorReported: boolean;
  /** The stage deciding it now decides on the local store (`onStoreError: 'local'`). */
  local: boolean;
  /** Categories already reported in `event_dropped`; made on the first drop. */
  droppedCategories: Set<string> | undefined;
}

/**
 * The state of a request just identified as `identity`, from `ip`: nothing emitted yet but
 * `event_received`.
 *
 * @example
 * ```ts
 * newRequestState({ project: { id: 1, organizationId: 7 } }, '203.0.113.9').key; // undefined
 * ```
 */
export function newRequestState(identity: Identity, ip: string): RequestState {
  return {
    project: identity.project,
    key: identity.key,
    ip,
    accepted: false,
    storeErrorReported: false,
    local: false,
    droppedCategories: undefined,
  };
}
