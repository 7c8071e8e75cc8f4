import type { MemoryState } from '../store/store.js';

/**
 * The in-memory side of one window's tracked values: the same steps as `tracked-values-lua.ts`,
 * on a value of the memory store instead of a sorted set. Keep the two alike step for step.
 *
 * A window (one per scope, window length and granularity) maps each tracked value's hash to
 * the granule of its latest admission, and each granule to the hashes whose latest admission
 * it holds, so pruning a granule and finding the oldest ones cost what they drop, not what the
 * window holds. The memory store sees one key per window; its values live inside it.
 */

/** A window as the memory store holds it (the sorted set of the Lua side). */
interface HeldValues {
  /** Value hash -> granule of its latest admission (the sorted set's score). */
  readonly granuleOf: Map<number, number>;
  /** Granule -> the value hashes whose latest admission it holds. */
  readonly byGranule: Map<number, Set<number>>;
  /** No value is held in a granule below this one. */
  lowest: number;
  /** The highest granule a value was admitted in (the sorted set's highest score). */
  highest: number;
}

/**
 * One window opened by a call: pruned to the call's window, with what the call did to it.
 *
 * @example
 * ```ts
 * const w = openValues(state, key, Math.floor(now / gms), n, gms);
 * ```
 */
export interface OpenValues {
  readonly key: string;
  /** The call's granule. */
  readonly c: number;
  /** Granules per window. */
  readonly n: number;
  /** Milliseconds per granule. */
  readonly gms: number;
  held: HeldValues | undefined;
  /** Hashes admitted by this call so far, stored or not. */
  readonly known: Set<number>;
  /** New values a check-only call admitted without storing them. */
  pending: number;
  /** True when this call stored an admission. */
  written: boolean;
}

/** Drops the values whose latest admission granule is `p` or older. */
function pruneThrough(held: HeldValues, p: number): void {
  const drop = (granule: number) => {
    const hashes = held.byGranule.get(granule);
    if (hashes === undefined) return;
    for (const hash of hashes) held.granuleOf.delete(hash);
    held.byGranule.delete(granule);
  };
  if (p - held.lowest + 1 > held.byGranule.size) {
    for (const granule of [...held.byGranule.keys()]) if (granule <= p) drop(granule);
  } else {
    for (let granule = held.lowest; granule <= p; granule++) drop(granule);
  }
  held.lowest = p + 1;
}

/**
 * `values_open`: the window at `key` for a call at granule `c`, without the values that left
 * it (latest admission at `c - n` or before).
 *
 * @example
 * ```ts
 * const w = openValues(state, 'sluice:card:{org-1}:3600000:60000', 29_450_000, 60, 60_000);
 * ```
 */
export function openValues(
  state: MemoryState,
  key: string,
  c: number,
  n: number,
  gms: number,
): OpenValues {
  let held = state.get<HeldValues>(key);
  if (held !== undefined && c - n >= held.lowest) {
    // Every value left (the set empties, as ZREMRANGEBYSCORE empties it): drop it whole.
    if (held.highest > c - n) pruneThrough(held, c - n);
    if (held.highest <= c - n || held.granuleOf.size === 0) {
      state.delete(key);
      held = undefined;
    }
  }
  return { key, c, n, gms, held, known: new Set(), pending: 0, written: false };
}

/**
 * True when the window tracks `hash` (stored, or admitted earlier in this call).
 *
 * @example
 * ```ts
 * if (isTracked(w, hash)) admitted.push(value);
 * ```
 */
export function isTracked(w: OpenValues, hash: number): boolean {
  return w.known.has(hash) || (w.held?.granuleOf.has(hash) ?? false);
}

/**
 * Distinct values the window tracks, this call's unstored admissions included.
 *
 * @example
 * ```ts
 * const fits = cardinalityOf(w) < limit;
 * ```
 */
export function cardinalityOf(w: OpenValues): number {
  return (w.held?.granuleOf.size ?? 0) + w.pending;
}

/**
 * `values_admit`: admits `hash` at the call's granule; with `store`, records it there (moving
 * a tracked value up to this granule, never down), else only counts it for the rest of the call.
 *
 * @example
 * ```ts
 * admitValue(w, hash, true);
 * ```
 */
export function admitValue(w: OpenValues, hash: number, store: boolean): void {
  const tracked = isTracked(w, hash);
  w.known.add(hash);
  if (!store) {
    if (!tracked) w.pending++;
    return;
  }
  const held = w.held ?? {
    granuleOf: new Map(),
    byGranule: new Map(),
    lowest: w.c - w.n + 1,
    highest: w.c,
  };
  w.held = held;
  const before = held.granuleOf.get(hash);
  if (before !== undefined && before >= w.c) return;
  if (before !== undefined) {
    const hashes = held.byGranule.get(before)!;
    hashes.delete(hash);
    if (hashes.size === 0) held.byGranule.delete(before);
  }
  held.granuleOf.set(hash, w.c);
  let hashes = held.byGranule.get(w.c);
  if (hashes === undefined) {
    hashes = new Set();
    held.byGranule.set(w.c, hashes);
  }
  hashes.add(hash);
  if (w.c > held.highest) held.highest = w.c;
  if (w.c - w.n + 1 < held.lowest) held.lowest = w.c - w.n + 1;
  w.written = true;
}

/**
 * `values_retry_ms`: ms until the window tracks fewer than `limit` values as granules leave
 * it; -1 never (limit 0). Values admitted but not stored by this call sit in granule `c`.
 *
 * @example
 * ```ts
 * const retryMs = valuesRetryMs(w, 100, now);
 * ```
 */
export function valuesRetryMs(w: OpenValues, limit: number, now: number): number {
  if (limit <= 0) return -1;
  const leaving = cardinalityOf(w) - limit; // index of the value whose leaving makes room
  let granule = w.c;
  const held = w.held;
  if (held !== undefined && leaving < held.granuleOf.size) {
    let passed = 0;
    for (const g of [...held.byGranule.keys()].sort((x, y) => x - y)) {
      passed += held.byGranule.get(g)!.size;
      if (passed > leaving) {
        granule = g;
        break;
      }
    }
  }
  return Math.ceil((granule + w.n) * w.gms - now);
}

/**
 * `values_keep`: after a call that stored admissions, the window lives until its newest value
 * leaves it: `(highest + n) * gms - now` ms from the decision time.
 *
 * @example
 * ```ts
 * keepValues(state, w, now);
 * ```
 */
export function keepValues(state: MemoryState, w: OpenValues, now: number): void {
  if (!w.written || w.held === undefined) return;
  state.set(w.key, w.held, Math.ceil((w.held.highest + w.n) * w.gms - now));
}
