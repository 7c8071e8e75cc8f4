import { hashTag } from '../store/key-parts.js';
import type { Store } from '../store/store.js';
import type { CounterKey } from './counter-keys.js';
import type { GlobalTake } from './global-take.js';
import type { QuotaConfig } from './quota-config.js';

/**
 * The slices of global quotas this process holds: units taken from a global counter in one
 * atomic store step (`global-take.ts`) and spent here, in memory, one decision after another,
 * so a quota shared by the whole fleet costs a store call per slice, not per decision.
 *
 * A slice belongs to one window of its counter and is spent only by decisions in that window:
 * when a decision falls in another window, what the slice held is forgotten (the counter
 * expires with its window, as every quota counter does). Its size follows this process's rate:
 * about {@link SLICE_TARGET_MS} of what it spent since its last take, at least what the decision
 * needs, at most {@link SLICE_CAP_DIVISOR | 1/100} of the limit; the take step shrinks it
 * further as the counter nears the limit.
 */

/** A slice covers about this many milliseconds of the process's recent rate. */
export const SLICE_TARGET_MS = 250;
/** A slice holds at most `limit / SLICE_CAP_DIVISOR` units (and at least what a decision needs). */
export const SLICE_CAP_DIVISOR = 100;
/** The largest slice of an unlimited (`limit: null`) global quota, which is only counted. */
export const UNLIMITED_SLICE_CAP = 100_000;
/**
 * Milliseconds (real time) during which a take that found too little headroom answers the
 * next decisions that need as much, without a store call: a counter only fills within its
 * window, so only a reset elsewhere can make the answer stale, and for no longer than this.
 */
export const SHORT_RECHECK_MS = 1000;
/** Counters held before the budget starts over, so a flood of quota ids cannot grow it. */
const MAX_COUNTERS = 10_000;

/**
 * What this process holds of one global counter.
 *
 * @example
 * ```ts
 * const slice = budget.slice(counter);
 * console.log(slice.units, 'units held in window', slice.windowIndex);
 * ```
 */
export interface Slice {
  /** The counter this slice was taken from. */
  readonly counter: CounterKey;
  /** The window the units belong to; -1 before the first take. */
  windowIndex: number;
  /** Units held, not yet spent. */
  units: number;
  /**
   * Decision clock minus `Date.now()`, in ms, as an upper bound from the last take (a store
   * without a clock in this process: Redis `TIME`), so the window this process thinks it is in
   * never lags the store's, and a slice is never spent past its window.
   */
  offsetMs: number;
  /** `limit - counter` as the last take found it (Infinity: not known). */
  headroomSeen: number;
  /** `performance.now()` when `headroomSeen` was read. */
  seenAt: number;
  /** Units spent from the slice since the last take: the rate the next slice is sized by. */
  spent: number;
  /** `performance.now()` of the last take. */
  takenAt: number;
  /** The take of this slice in flight, if any (decisions without a timestamp wait for it). */
  inFlight: Promise<unknown> | undefined;
  /** Units that decisions waiting for `inFlight` still need. */
  queued: number;
}

/**
 * The global counters of one `Quotas` engine and the slices it holds of them.
 *
 * @example
 * ```ts
 * const budget = new GlobalBudget('sluice', store.clock);
 * const slice = budget.slice(budget.counter(quota));
 * const reserved = budget.reserve(slice, windowIndex, 1); // 1 when the slice held a unit
 * ```
 */
export class GlobalBudget {
  readonly #prefix: string;
  readonly #clock: (() => number) | undefined;
  #counters = new Map<string, CounterKey[]>();
  #slices = new Map<string, Slice>();

  /**
   * @param prefix - the store's key prefix.
   * @param clock - the store's clock when it runs in this process (memory), else undefined.
   */
  constructor(prefix: string, clock: (() => number) | undefined) {
    this.#prefix = prefix;
    this.#clock = clock;
  }

  /**
   * The counter of a global quota: `<prefix>:global:{<quota id>}:<window s>`, a hash tag of its
   * own (one Cluster slot per global quota), windows aligned on the epoch (shift 0).
   */
  counter(quota: Pick<QuotaConfig, 'id' | 'windowSeconds'>): CounterKey {
    let byWindow = this.#counters.get(quota.id);
    if (byWindow !== undefined) {
      for (const counter of byWindow)
        if (counter.windowSeconds === quota.windowSeconds) return counter;
    } else {
      if (this.#counters.size >= MAX_COUNTERS) this.#counters = new Map();
      byWindow = [];
      this.#counters.set(quota.id, byWindow);
    }
    const counter: CounterKey = {
      base: `${this.#prefix}:global:${hashTag(quota.id)}:${quota.windowSeconds}`,
      windowSeconds: quota.windowSeconds,
      shift: 0,
    };
    byWindow.push(counter);
    return counter;
  }

  /** The slice held of `counter`, created empty when there is none. */
  slice(counter: CounterKey): Slice {
    let slice = this.#slices.get(counter.base);
    if (slice === undefined) {
      if (this.#slices.size >= MAX_COUNTERS) this.#slices = new Map();
      slice = {
        counter,
        windowIndex: -1,
        units: 0,
        offsetMs: 0,
        headroomSeen: Number.POSITIVE_INFINITY,
        seenAt: 0,
        spent: 0,
        takenAt: 0,
        inFlight: undefined,
        queued: 0,
      };
      this.#slices.set(counter.base, slice);
    }
    return slice;
  }

  /** Units held of `counter` in window `windowIndex` (0 when the slice is of another window). */
  held(counter: CounterKey, windowIndex: number): number {
    const slice = this.#slices.get(counter.base);
    return slice !== undefined && slice.windowIndex === windowIndex ? slice.units : 0;
  }

  /**
   * Units held of `counter` in the window of a call at `timestampMs` (undefined: now), as
   * {@link GlobalBudget.nowMs} reads the time.
   */
  heldAt(counter: CounterKey, timestampMs: number | undefined): number {
    const slice = this.#slices.get(counter.base);
    if (slice === undefined) return 0;
    return slice.windowIndex === windowOf(counter, this.nowMs(slice, timestampMs))
      ? slice.units
      : 0;
  }

  /**
   * Adds `units` given back by a refund to the slice of the refund's window (a slice of another
   * window is forgotten first): this process spends them again, or forgets them with the window.
   */
  refund(counter: CounterKey, units: number, timestampMs: number | undefined): void {
    const slice = this.slice(counter);
    const windowIndex = windowOf(counter, this.nowMs(slice, timestampMs));
    if (slice.windowIndex !== windowIndex) moveTo(slice, windowIndex);
    slice.units += units;
  }

  /** Forgets the slice of `counter` (after a reset of the counter). */
  forget(counter: CounterKey): void {
    this.#slices.delete(counter.base);
  }

  /**
   * The decision time in ms: the call's timestamp, else the store's clock when it runs here,
   * else this process's clock moved by the slice's offset (the store's `TIME`, never behind).
   */
  nowMs(slice: Slice, timestampMs: number | undefined): number {
    if (timestampMs !== undefined) return timestampMs;
    return this.#clock !== undefined ? this.#clock() : Date.now() + slice.offsetMs;
  }

  /**
   * Sets aside up to `quantity` held units of window `windowIndex` for one decision, and
   * returns how many. A slice of another window is forgotten first.
   */
  reserve(slice: Slice, windowIndex: number, quantity: number): number {
    if (slice.windowIndex !== windowIndex) moveTo(slice, windowIndex);
    const reserved = Math.min(slice.units, quantity);
    slice.units -= reserved;
    return reserved;
  }

  /** Gives `units` set aside for a decision back to the slice, if it is still of that window. */
  giveBack(slice: Slice, windowIndex: number, units: number): void {
    if (units > 0 && slice.windowIndex === windowIndex) slice.units += units;
  }

  /** Records that a decision spent `quantity` units of the slice (the rate it is sized by). */
  spend(slice: Slice, quantity: number): void {
    slice.spent += quantity;
  }

  /**
   * True when a take made less than {@link SHORT_RECHECK_MS} ago found less headroom than
   * `need` in this window: the store would refuse again, so the decision need not ask.
   */
  knownShort(slice: Slice, need: number): boolean {
    return slice.headroomSeen < need && performance.now() - slice.seenAt < SHORT_RECHECK_MS;
  }

  /**
   * How many units to ask for when decisions need `need` more: the recent rate times
   * {@link SLICE_TARGET_MS}, at least `need`, within [need, max(need, cap)].
   */
  want(slice: Slice, need: number, limit: number | null): number {
    const elapsed = Math.max(1, performance.now() - slice.takenAt);
    const rate = slice.takenAt === 0 ? 0 : Math.ceil((slice.spent / elapsed) * SLICE_TARGET_MS);
    const byRate = Math.max(rate, need);
    const cap =
      limit === null ? UNLIMITED_SLICE_CAP : Math.max(1, Math.floor(limit / SLICE_CAP_DIVISOR));
    return Math.max(need, Math.min(byRate, cap));
  }

  /**
   * Books a take into the slice. `reserved` units of window `reservedWindow` were set aside
   * for the decision, which needs `quantity` in all; returns true when the decision has them
   * (the surplus of the take joins the slice), false when it is refused (the reserved units
   * go back, if the window is unchanged). `sentAt` is `Date.now()` when the take was sent,
   * for a take that ran on the store's `TIME`.
   */
  book(
    slice: Slice,
    take: GlobalTake,
    booking: { reserved: number; reservedWindow: number; quantity: number; limit: number | null },
    sentAt: number | undefined,
  ): boolean {
    const { reserved, reservedWindow, quantity, limit } = booking;
    if (sentAt !== undefined) slice.offsetMs = take.nowMicros / 1000 - sentAt;
    if (take.windowIndex !== slice.windowIndex) moveTo(slice, take.windowIndex);
    const sameWindow = take.windowIndex === reservedWindow;
    const need = sameWindow ? quantity - reserved : quantity;
    const now = performance.now();
    slice.headroomSeen = limit === null ? Number.POSITIVE_INFINITY : limit - take.counter;
    slice.seenAt = now;
    if (take.granted > 0) {
      slice.spent = 0;
      slice.takenAt = now;
    }
    const enough = need > 0 ? take.granted >= need : limit === null || take.counter < limit;
    if (enough) {
      slice.units += take.granted - need;
      return true;
    }
    if (sameWindow) slice.units += reserved + take.granted;
    return false;
  }
}

/**
 * The window index of `counter` at `nowMs`.
 *
 * @example
 * ```ts
 * windowOf({ base: 'sluice:global:{g}:60', windowSeconds: 60, shift: 0 }, 120_500); // 2
 * ```
 */
export function windowOf(counter: CounterKey, nowMs: number): number {
  return Math.floor((nowMs / 1000 - counter.shift) / counter.windowSeconds);
}

/** The budget of each store object: every engine on one store in a process shares its slices. */
const budgets = new WeakMap<Store, GlobalBudget>();

/**
 * The {@link GlobalBudget} of `store`, created at its first use: the `Quotas` engines of one
 * process on one store (over HTTP, every stage's, enforced and shadow) spend the same slices,
 * so a process holds one slice per global counter, not one per engine.
 *
 * @example
 * ```ts
 * const budget = globalBudgetOf(store);
 * budget.heldAt(budget.counter(quota), undefined); // units this process holds now
 * ```
 */
export function globalBudgetOf(store: Store): GlobalBudget {
  let budget = budgets.get(store);
  if (budget === undefined) {
    budget = new GlobalBudget(store.prefix, store.clock);
    budgets.set(store, budget);
  }
  return budget;
}

/** Empties the slice for window `windowIndex` (what it held of another window is forgotten). */
function moveTo(slice: Slice, windowIndex: number): void {
  slice.windowIndex = windowIndex;
  slice.units = 0;
  slice.headroomSeen = Number.POSITIVE_INFINITY;
  slice.seenAt = 0;
}
