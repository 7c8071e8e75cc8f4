import type { Store } from '../store/store.js';
import type { CounterKey } from './counter-keys.js';
import { type GlobalBudget, type Slice, windowOf } from './global-budget.js';
import { type GlobalTake, type GlobalTakeArgs, globalTakeOperation } from './global-take.js';
import type { QuotaConfig } from './quota-config.js';
import type { QuotaRemaining } from './rate-limit.js';
import { secondsToNextWindow } from './window.js';

/**
 * The global quotas of one decision, spent from this process's slices before the other
 * quotas are decided (DESIGN 2.1's one-step rule is relaxed for them alone, since a global
 * counter cannot share the organization's hash tag): a quota whose slice holds the quantity
 * costs no store call; one whose slice is short takes a new slice in one atomic step. If a
 * global quota refuses, or the other quotas refuse afterwards, the units go back to the slices.
 */

/**
 * A global quota of a decision and its counter.
 *
 * @example
 * ```ts
 * const global: GlobalQuota = { quota, counter: budget.counter(quota) };
 * ```
 */
export interface GlobalQuota {
  readonly quota: QuotaConfig;
  readonly counter: CounterKey;
}

/**
 * One global quota's part in a decision.
 *
 * @example
 * ```ts
 * for (const claim of spent.claims) if (!claim.admits) console.log(claim.quota.id, 'refused');
 * ```
 */
export interface GlobalClaim {
  readonly quota: QuotaConfig;
  readonly slice: Slice;
  /** The window the claim's units belong to. */
  windowIndex: number;
  /** The decision time on this quota's clock, in ms. */
  nowMs: number;
  /** True when the quota admits the quantity (its units are set aside in the claim). */
  admits: boolean;
}

/**
 * What the global quotas of a decision said.
 *
 * @example
 * ```ts
 * const spent = await spendGlobal(context, globals, 1, undefined);
 * if (spent.admitted) commitGlobal(context.budget, spent);
 * ```
 */
export interface GlobalSpend {
  readonly claims: readonly GlobalClaim[];
  readonly quantity: number;
  /** True when every enforced global quota admits. */
  readonly admitted: boolean;
}

/**
 * What a global spend needs from its engine.
 *
 * @example
 * ```ts
 * const context: GlobalContext = { store, budget: globalBudgetOf(store), graceSeconds: 60 };
 * ```
 */
export interface GlobalContext {
  readonly store: Store;
  readonly budget: GlobalBudget;
  readonly graceSeconds: number;
}

/**
 * Sets `quantity` aside in the slice of every global quota, taking new slices where a slice is
 * short; synchronous when no take is needed or the store answers at once (memory).
 *
 * @example
 * ```ts
 * const spent = await spendGlobal({ store, budget, graceSeconds: 60 }, globals, 1, undefined);
 * ```
 */
export function spendGlobal(
  context: GlobalContext,
  globals: readonly GlobalQuota[],
  quantity: number,
  timestampMs: number | undefined,
): GlobalSpend | Promise<GlobalSpend> {
  const { store, budget } = context;
  const claims: GlobalClaim[] = [];
  let takes: Array<Promise<void>> | undefined;
  for (const { quota, counter } of globals) {
    const slice = budget.slice(counter);
    const nowMs = budget.nowMs(slice, timestampMs);
    const windowIndex = windowOf(counter, nowMs);
    const reserved = budget.reserve(slice, windowIndex, quantity);
    const claim: GlobalClaim = { quota, slice, windowIndex, nowMs, admits: true };
    claims.push(claim);
    if (quantity > 0 && reserved === quantity) continue;
    const need = quantity - reserved;
    if (quantity > 0 && budget.knownShort(slice, need)) {
      budget.giveBack(slice, windowIndex, reserved);
      claim.admits = false;
      continue;
    }
    // Check-only with units in hand: admitted, as `used < limit` then holds.
    if (quantity === 0 && slice.units > 0) continue;
    if (store.runNow !== undefined) {
      const take = store.runNow(
        globalTakeOperation,
        takeArgs(context, claim, counter, quantity, reserved),
        timestampMs,
      );
      book(budget, claim, take, { reserved, quantity }, undefined);
    } else {
      takes ??= [];
      takes.push(takeLater(context, claim, counter, { reserved, quantity }, timestampMs));
    }
  }
  if (takes === undefined) return settle(budget, claims, quantity);
  return Promise.allSettled(takes).then((results) => {
    const failed = results.find((r) => r.status === 'rejected');
    if (failed !== undefined) {
      // Give back what the other claims set aside before passing the failure on.
      releaseGlobal(budget, { claims, quantity, admitted: false });
      throw failed.reason;
    }
    return settle(budget, claims, quantity);
  });
}

/** The arguments of the take of `claim`, which holds `reserved` of `quantity`. */
function takeArgs(
  context: GlobalContext,
  claim: GlobalClaim,
  counter: CounterKey,
  quantity: number,
  reserved: number,
): GlobalTakeArgs {
  const { slice, quota } = claim;
  const need = quantity - reserved;
  return {
    counter,
    graceSeconds: context.graceSeconds,
    limit: quota.limit ?? -1,
    need,
    want: quantity === 0 ? 0 : context.budget.want(slice, need, quota.limit),
    quantity,
    expectedWindow: claim.windowIndex,
  };
}

/** Books `take` into the claim's slice and the claim. */
function book(
  budget: GlobalBudget,
  claim: GlobalClaim,
  take: GlobalTake,
  held: { reserved: number; quantity: number },
  sentAt: number | undefined,
): void {
  const booking = { ...held, reservedWindow: claim.windowIndex, limit: claim.quota.limit };
  claim.admits = budget.book(claim.slice, take, booking, sentAt);
  claim.windowIndex = take.windowIndex;
  claim.nowMs = take.nowMicros / 1000;
}

/**
 * The take of a claim on a store that answers later (Redis). A decision without a timestamp
 * that finds a take of its counter in flight waits for it and looks at the slice again, so a
 * burst on an empty slice sends one take at a time (sized for the decisions waiting), not one
 * per decision.
 */
async function takeLater(
  context: GlobalContext,
  claim: GlobalClaim,
  counter: CounterKey,
  held: { reserved: number; quantity: number },
  timestampMs: number | undefined,
): Promise<void> {
  const { store, budget } = context;
  const { slice } = claim;
  const { quantity } = held;
  let { reserved } = held;
  while (quantity > 0 && timestampMs === undefined && slice.inFlight !== undefined) {
    const need = quantity - reserved;
    slice.queued += need;
    try {
      await slice.inFlight;
    } catch {
      // The decision that sent it fails; this one looks again.
    } finally {
      slice.queued -= need;
    }
    claim.nowMs = budget.nowMs(slice, undefined);
    const windowIndex = windowOf(counter, claim.nowMs);
    // Units set aside in a window that has ended are void.
    if (windowIndex !== claim.windowIndex) reserved = 0;
    claim.windowIndex = windowIndex;
    reserved += budget.reserve(slice, windowIndex, quantity - reserved);
    if (reserved === quantity) return;
    if (budget.knownShort(slice, quantity - reserved)) {
      budget.giveBack(slice, windowIndex, reserved);
      claim.admits = false;
      return;
    }
  }
  const args = takeArgs(context, claim, counter, quantity, reserved);
  if (slice.queued > 0) {
    args.want = Math.max(
      args.want,
      context.budget.want(slice, args.need + slice.queued, claim.quota.limit),
    );
  }
  const sentAt = timestampMs === undefined ? Date.now() : undefined;
  const take = store.run(globalTakeOperation, args, timestampMs);
  if (timestampMs === undefined) slice.inFlight = take;
  try {
    book(budget, claim, await take, { reserved, quantity }, sentAt);
  } catch (error) {
    // Nobody knows whether the take counted: the reserved units go back to the slice.
    budget.giveBack(slice, claim.windowIndex, reserved);
    claim.admits = false;
    throw error;
  } finally {
    if (slice.inFlight === take) slice.inFlight = undefined;
  }
}

/** The spend, with the units of admitting claims given back when an enforced one refuses. */
function settle(budget: GlobalBudget, claims: GlobalClaim[], quantity: number): GlobalSpend {
  const admitted = claims.every((c) => c.admits || c.quota.shadow === true);
  const spend: GlobalSpend = { claims, quantity, admitted };
  if (!admitted) releaseGlobal(budget, spend);
  return spend;
}

/**
 * Spends the units set aside: the decision was admitted.
 *
 * @example
 * ```ts
 * if (!decision.isLimited) commitGlobal(budget, spent);
 * ```
 */
export function commitGlobal(budget: GlobalBudget, spend: GlobalSpend): void {
  for (const claim of spend.claims) if (claim.admits) budget.spend(claim.slice, spend.quantity);
}

/**
 * Gives the units set aside back to their slices: the decision was refused.
 *
 * @example
 * ```ts
 * if (decision.isLimited) releaseGlobal(budget, spent);
 * ```
 */
export function releaseGlobal(budget: GlobalBudget, spend: GlobalSpend): void {
  for (const claim of spend.claims) {
    if (!claim.admits) continue;
    budget.giveBack(claim.slice, claim.windowIndex, spend.quantity);
    claim.admits = false;
  }
}

/**
 * What is left of an enforced global quota for this process, as far as it knows: the units it
 * holds plus the headroom its last take saw (other processes may have taken some since).
 *
 * @example
 * ```ts
 * const remaining = globalRemaining(claim, spent.quantity, true);
 * ```
 */
export function globalRemaining(
  claim: GlobalClaim,
  quantity: number,
  counted: boolean,
): QuotaRemaining {
  const { quota, slice } = claim;
  const limit = quota.limit!;
  const held = slice.windowIndex === claim.windowIndex ? slice.units : 0;
  const headroom = Number.isFinite(slice.headroomSeen) ? Math.max(0, slice.headroomSeen) : 0;
  const left = held + headroom + (claim.admits && !counted ? quantity : 0);
  return {
    id: quota.id,
    limit,
    remaining: Math.min(limit, left),
    windowSeconds: quota.windowSeconds,
    resetAfter: secondsToNextWindow(claim.nowMs / 1000, quota.windowSeconds, 0),
    full: !claim.admits && left === 0,
  };
}
