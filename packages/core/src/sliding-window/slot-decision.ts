import { type DecisionScope, decisionChannel } from '../metrics/decision-channel.js';
import type { Store } from '../store/store.js';
import { planCalls, type RequestAnswer, type StoreCallPlan } from './call-plan.js';
import type { Quota } from './quota.js';
import type { GrantedQuota, ValidRequest } from './requests.js';
import { decideOperation, type WindowDecision } from './window-decide.js';
import { publishWindowDecisions } from './window-decision-message.js';
import { recordOperation } from './window-record.js';

/**
 * A decision as store calls: one on memory and on a single Redis; on a Redis Cluster one per
 * hash slot, run one after the other (see `docs/sliding-window.md`, "Redis Cluster").
 */

/** Per request and quota: remaining units and retry ms, as the store calls answered. */
type Findings = Array<Array<{ remaining: number; retryMs: number }>>;

/**
 * Runs the store calls of a decision one after the other, each asking only for what the
 * earlier ones granted, at one decision time (the first call's when none was given). With
 * `consume`, every call reserves what it grants; what a later call refused is then given back.
 * With a subscriber on `sluice:decision`, each request's decision is published in `scope`.
 *
 * @example
 * ```ts
 * const { grants } = await decide(store, validateRequests(requests), 100_000, true, ENGINE_SCOPE);
 * ```
 */
export async function decide(
  store: Store,
  requests: readonly ValidRequest[],
  ms: number | undefined,
  consume: boolean,
  scope: DecisionScope,
): Promise<{ nowUs: number; grants: GrantedQuota[] }> {
  const plans = planCalls(store.prefix, requests, store.clustered);
  const asked = requests.map((r) => r.requested);
  const findings: Findings = requests.map(() => []);
  const reserved: Array<{ plan: StoreCallPlan; answers: RequestAnswer[] }> = [];
  let timeMs = ms;
  let nowUs = 0;
  for (const plan of plans) {
    let decision: WindowDecision;
    try {
      decision = await store.run(decideOperation, { plan, consume, asked }, timeMs);
    } catch (error) {
      await giveBack(store, reserved, () => 0, timeMs);
      throw error;
    }
    if (timeMs === undefined) {
      nowUs = decision.nowUs;
      timeMs = nowUs / 1000;
    }
    for (const answer of decision.answers) {
      asked[answer.index] = answer.granted;
      for (const { position, remaining, retryMs } of answer.quotas) {
        findings[answer.index]![position] = { remaining, retryMs };
      }
    }
    if (consume) reserved.push({ plan, answers: decision.answers });
  }
  if (ms !== undefined) nowUs = ms * 1000;
  const grants = requests.map((request, i) => grantOf(request, findings[i]!));
  if (plans.length > 1) await giveBack(store, reserved, (i) => grants[i]!.granted, timeMs);
  if (decisionChannel.hasSubscribers) {
    publishWindowDecisions(requests, grants, findings, consume, scope);
  }
  return { nowUs, grants };
}

/**
 * Gives back, in each reserved store call, what it granted beyond `kept(index)`. Best effort:
 * a failure leaves the excess counted until its granule leaves the window (under-grant,
 * never over-grant), and does not fail the decision.
 */
async function giveBack(
  store: Store,
  reserved: Array<{ plan: StoreCallPlan; answers: RequestAnswer[] }>,
  kept: (index: number) => number,
  ms: number | undefined,
): Promise<void> {
  await Promise.all(
    reserved.map(async ({ plan, answers }) => {
      const units: number[] = [];
      let any = false;
      for (const { index, granted } of answers) {
        units[index] = kept(index) - granted;
        if (units[index] !== 0) any = true;
      }
      if (!any) return;
      try {
        await record(store, plan, units, ms);
      } catch {
        // The excess stays counted until it leaves the window: see the method's comment.
      }
    }),
  );
}

/**
 * Counts `units[index]` for each request of `plan` (negative: gives them back), at `ms`.
 *
 * @example
 * ```ts
 * await record(store, plan, [granted], timestampMs);
 * ```
 */
export async function record(
  store: Store,
  plan: StoreCallPlan,
  units: readonly number[],
  ms: number | undefined,
): Promise<void> {
  if (plan.requests.every(({ index }) => units[index] === 0)) return;
  await store.run(recordOperation, { plan, units }, ms);
}

/**
 * The grant of one request from what its quotas' windows answered: `granted` starts at
 * `requested` and each quota, in order, whose remaining units are fewer cuts it and is reached.
 * When cut, `retryAfter` is the time until every window of the request allows one more unit.
 */
function grantOf(
  request: ValidRequest,
  findings: Array<{ remaining: number; retryMs: number }>,
): GrantedQuota {
  let granted = request.requested;
  const reached: number[] = [];
  findings.forEach(({ remaining }, position) => {
    if (remaining < granted) {
      granted = remaining;
      reached.push(position);
    }
  });
  const grant: GrantedQuota = {
    prefix: request.prefix,
    granted,
    reachedQuotas: reached.map((position) => request.named[position] as Quota),
  };
  if (granted < request.requested) {
    // Every window of the request, not only the reached ones: a window this grant filled
    // exactly is not reached, yet it too must free a unit before one more can be granted.
    let retryMs = 0;
    for (const { retryMs: ms } of findings) {
      retryMs = ms < 0 || retryMs < 0 ? -1 : Math.max(retryMs, ms);
    }
    grant.retryAfter = retryMs < 0 ? Number.POSITIVE_INFINITY : retryMs / 1000;
  }
  return grant;
}
