import calculateSlot from 'cluster-key-slot';
import { keyPart } from '../store/key-parts.js';
import type { Quota } from './quota.js';
import type { ValidRequest } from './requests.js';

/**
 * How a call's requests become store calls: one per Redis Cluster hash slot (one in all on
 * memory and on a single Redis), each with its windows declared in KEYS.
 */

/** One quota of a request, in a store call. */
interface PlannedQuota {
  /** Position in the request's quota list. */
  readonly position: number;
  /** 1-based index of its window in the store call's keys. */
  readonly window: number;
  readonly quota: Quota;
}

/** The part of one request that a store call decides. */
interface PlannedRequest {
  /** Index of the request in the call. */
  readonly index: number;
  readonly quotas: PlannedQuota[];
}

/**
 * One store call: the windows of one hash slot and the requests that name them.
 *
 * @example
 * ```ts
 * const [plan] = planCalls('sluice', requests, false); // plan.keys: the windows in KEYS
 * ```
 */
export interface StoreCallPlan {
  readonly keys: string[];
  readonly requests: PlannedRequest[];
}

/**
 * What one store call said about one request.
 *
 * @example
 * ```ts
 * const { answers } = await store.run(decideOperation, { plan, consume: true, asked }); // answers[0].granted
 * ```
 */
export interface RequestAnswer {
  /** Index of the request in the call. */
  readonly index: number;
  /** Units granted by this store call's windows. */
  readonly granted: number;
  /** Per quota in this store call: position in the request, remaining units, retry ms. */
  readonly quotas: Array<{ position: number; remaining: number; retryMs: number }>;
}

/**
 * The key of a window: `<store prefix>:sw:{<tag>}:<window ms>:<granularity ms>`, where the tag
 * is the quota's `prefixOverride` or else the request's prefix, escaped by {@link keyPart} so
 * it cannot close the hash tag nor collide with another. Quotas of one tag, window and
 * granularity share a key, whichever object names them.
 *
 * @example
 * ```ts
 * windowKey('sluice', 'org:1', new Quota({ windowSeconds: 60, granularitySeconds: 1, limit: 5 }));
 * // 'sluice:sw:{org%003a1}:60000:1000'
 * ```
 */
export function windowKey(storePrefix: string, tag: string, quota: Quota): string {
  const windowMs = quota.granularityMs * quota.granulesPerWindow;
  return `${storePrefix}:sw:{${keyPart(tag)}}:${windowMs}:${quota.granularityMs}`;
}

/**
 * Splits a call into store calls: one when `clustered` is false, else one per hash slot, in
 * the order the slots first appear. A call without requests still makes one (empty) store
 * call, which reads the store's time.
 *
 * @example
 * ```ts
 * const plans = planCalls(store.prefix, validateRequests(requests), store.clustered);
 * ```
 */
export function planCalls(
  storePrefix: string,
  requests: readonly ValidRequest[],
  clustered: boolean,
): StoreCallPlan[] {
  const plans = new Map<
    number,
    { keys: string[]; windows: Map<string, number>; requests: PlannedRequest[] }
  >();
  const planOf = (key: string) => {
    const slot = clustered ? calculateSlot(key) : 0;
    let plan = plans.get(slot);
    if (plan === undefined) {
      plan = { keys: [], windows: new Map(), requests: [] };
      plans.set(slot, plan);
    }
    return plan;
  };
  if (requests.length === 0) planOf('');
  requests.forEach((request, index) => {
    request.quotas.forEach((quota, position) => {
      const key = windowKey(storePrefix, quota.prefixOverride ?? request.prefix, quota);
      const plan = planOf(key);
      let window = plan.windows.get(key);
      if (window === undefined) {
        plan.keys.push(key);
        window = plan.keys.length;
        plan.windows.set(key, window);
      }
      let planned = plan.requests.at(-1);
      if (planned?.index !== index) {
        planned = { index, quotas: [] };
        plan.requests.push(planned);
      }
      planned.quotas.push({ position, window, quota });
    });
  });
  return [...plans.values()].map(({ keys, requests: planned }) => ({ keys, requests: planned }));
}
