import type { MemoryState } from '../store/store.js';
import type { Quota } from './quota.js';

/**
 * The in-memory side of one sliding window's state: the same steps as `window-lua.ts`, on a
 * value of the memory store instead of a hash. Keep the two alike step for step.
 */

/** A window as the memory store holds it (the hash of the Lua side). */
interface HeldWindow {
  /** Sum of every granule's units. */
  s: number;
  /** Lowest granule that may still be held. */
  l: number;
  /** Highest granule ever counted. */
  h: number;
  /** Units per held granule. */
  readonly units: Map<number, number>;
}

/**
 * One window opened by a call, as `window_open` returns it.
 *
 * @example
 * ```ts
 * const w = openWindow(state, key, Math.floor(now / gms), n, gms); // w.used
 * ```
 */
export interface OpenWindow {
  readonly key: string;
  /** The call's granule. */
  readonly c: number;
  /** Granules per window. */
  readonly n: number;
  /** Milliseconds per granule. */
  readonly gms: number;
  /** The stored value, or undefined when the window holds nothing. */
  held: HeldWindow | undefined;
  /** Units in [c - n + 1, c], this call's grants so far included. */
  used: number;
  /** Lowest granule that may be held, highest counted (as on the Lua side when not held). */
  l: number;
  h: number;
}

/** Held granules in [a, b], ascending, as `[granule, units]` pairs. */
function heldIn(held: HeldWindow | undefined, a: number, b: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  if (held === undefined || b < a) return out;
  if (b - a + 1 > held.units.size) {
    for (const [g, units] of held.units) if (g >= a && g <= b) out.push([g, units]);
    return out.sort((x, y) => x[0] - y[0]);
  }
  for (let g = a; g <= b; g++) {
    const units = held.units.get(g);
    if (units !== undefined) out.push([g, units]);
  }
  return out;
}

/**
 * `window_open`: prunes the granules before `c - n` and computes `used` at granule `c`.
 *
 * @example
 * ```ts
 * const w = openWindow(state, keys[0]!, Math.floor(now / 1000), 60, 1000);
 * ```
 */
export function openWindow(
  state: MemoryState,
  key: string,
  c: number,
  n: number,
  gms: number,
): OpenWindow {
  let held = state.get<HeldWindow>(key);
  if (held !== undefined) {
    const p = c - n - 1;
    if (p >= held.l) {
      if (p >= held.h) {
        held.s = 0;
      } else {
        const gone = heldIn(held, held.l, p);
        for (const [g, units] of gone) {
          held.s -= units;
          held.units.delete(g);
        }
        held.l = p + 1;
      }
      if (held.s <= 0) {
        state.delete(key);
        held = undefined;
      }
    }
  }
  const w: OpenWindow = {
    key,
    c,
    n,
    gms,
    held,
    used: held === undefined ? 0 : held.s - (held.units.get(c - n) ?? 0),
    l: held?.l ?? c - n,
    h: held?.h ?? c - n - 1,
  };
  if (w.h > c) {
    for (const [, units] of heldIn(held, Math.max(c + 1, w.l), w.h)) w.used -= units;
  }
  return w;
}

/**
 * `window_add`: counts `units` (negative: gives them back) in granule `c`.
 *
 * @example
 * ```ts
 * addToWindow(state, w, granted, now);
 * ```
 */
export function addToWindow(state: MemoryState, w: OpenWindow, units: number, now: number): void {
  const { c } = w;
  if (units === 0 || c < w.l) return;
  if (units > 0) {
    const held = w.held ?? { s: 0, l: w.l, h: w.h, units: new Map<number, number>() };
    held.units.set(c, (held.units.get(c) ?? 0) + units);
    held.s += units;
    if (c > held.h) held.h = c;
    w.held = held;
    w.h = held.h;
    state.set(w.key, held, Math.ceil((held.h + w.n + 1) * w.gms - now));
    return;
  }
  const held = w.held;
  if (held === undefined) return;
  const have = held.units.get(c);
  if (have === undefined) return;
  const take = Math.min(have, -units);
  if (take === have) held.units.delete(c);
  else held.units.set(c, have - take);
  held.s -= take;
  if (held.s <= 0) {
    state.delete(w.key);
    w.held = undefined;
    w.l = c - w.n;
    w.h = c - w.n - 1;
  }
}

/**
 * `granule_reaching`: the first granule in [a, b] by which the held units add up to `need`,
 * walking from the oldest and stopping there, or through the sorted fields when fewer.
 */
function granuleReaching(
  held: HeldWindow | undefined,
  a: number,
  b: number,
  need: number,
): number | undefined {
  if (held === undefined || b < a) return undefined;
  let total = 0;
  if (b - a + 1 > held.units.size) {
    for (const [g, units] of heldIn(held, a, b)) {
      total += units;
      if (total >= need) return g;
    }
    return undefined;
  }
  for (let g = a; g <= b; g++) {
    total += held.units.get(g) ?? 0;
    if (total >= need) return g;
  }
  return undefined;
}

/**
 * `window_retry_ms`: ms until the window allows one more unit; 0 now, -1 never.
 *
 * @example
 * ```ts
 * const retryMs = windowRetryMs(w, 10, now); // 0: room now, -1: never
 * ```
 */
export function windowRetryMs(w: OpenWindow, limit: number, now: number): number {
  if (w.used < limit) return 0;
  if (limit <= 0) return -1;
  const g = granuleReaching(w.held, Math.max(w.l, w.c - w.n + 1), w.c, w.used - limit + 1) ?? w.c;
  return Math.ceil((g + w.n) * w.gms - now);
}

/**
 * `now` in whole microseconds, as `NOW_US_LUA` computes it.
 *
 * @example
 * ```ts
 * nowUs(1_700_000_000_000.4); // 1_700_000_000_000_400
 * ```
 */
export function nowUs(now: number): number {
  return Math.floor(now * 1000 + 0.5);
}

/**
 * The window numbered `window` of a call's plan (1-based, as the plan's `keys`), opened once
 * per call at `now` and kept in `opened`: the decide and record steps both read a window that
 * several requests of the call share.
 *
 * @example
 * ```ts
 * const opened = new Map<number, OpenWindow>();
 * const w = windowOfCall(state, opened, plan.keys, window, quota, now);
 * ```
 */
export function windowOfCall(
  state: MemoryState,
  opened: Map<number, OpenWindow>,
  keys: readonly string[],
  window: number,
  quota: Quota,
  now: number,
): OpenWindow {
  let w = opened.get(window);
  if (w === undefined) {
    const { granularityMs } = quota;
    w = openWindow(
      state,
      keys[window - 1]!,
      Math.floor(now / granularityMs),
      quota.granulesPerWindow,
      granularityMs,
    );
    opened.set(window, w);
  }
  return w;
}
