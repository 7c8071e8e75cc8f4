import type { Quota } from '@sluice/core';

/**
 * A small, obviously right model of the cardinality limiter (docs/cardinality.md), against
 * which the time-model suite compares every step. It keeps every admission it ever saw, as
 * (value, exact millisecond), forever, and recomputes each answer from the definition: the
 * values a window tracks at `t` are those admitted in a granule of the window of `t`, each
 * held at the granule of its latest such admission. No hashing, expiry, pruning or cache.
 */

/** The model's answer to one request; `retryAfterMs` is exact. */
export interface ModelCardinalityGrant {
  grantedValues: string[];
  refusedValues: string[];
  cardinality: number;
  /** Set when a value was refused; `Infinity` for a limit of 0. */
  retryAfterMs?: number;
}

/** A request as the model reads it. */
export interface ModelCardinalityRequest {
  readonly prefix: string;
  readonly values: readonly string[];
  readonly quota: Quota;
}

/** A window's state: one per prefix, window length and granularity, as the engine keys it. */
const windowOf = (r: ModelCardinalityRequest) =>
  `${r.prefix}|${r.quota.windowSeconds}|${r.quota.granularitySeconds}`;

/**
 * Decides and records like `CardinalityLimiter`, from every admission kept.
 *
 * @example
 * ```ts
 * const model = new CardinalityModel();
 * const expected = model.decide(requests, 1_767_225_600_000, 'checkAndUse');
 * ```
 */
export class CardinalityModel {
  readonly #admissions = new Map<string, Array<{ value: string; atMs: number }>>();

  /** Value -> granule of its latest admission within the window of `atMs`. */
  tracked(r: ModelCardinalityRequest, atMs: number): Map<string, number> {
    const gms = Math.round(r.quota.granularitySeconds * 1000);
    const newest = Math.floor(atMs / gms);
    const oldest = newest - Math.round(r.quota.windowSeconds * 1000) / gms + 1;
    const out = new Map<string, number>();
    for (const { value, atMs: at } of this.#admissions.get(windowOf(r)) ?? []) {
      const granule = Math.floor(at / gms);
      if (granule < oldest || granule > newest) continue;
      out.set(value, Math.max(out.get(value) ?? granule, granule));
    }
    return out;
  }

  /**
   * The grants of `requests` at `atMs`, in order: `check` records nothing (but a request's
   * admissions count for the later requests of the call), `checkAndUse` records each admitted
   * value at once.
   */
  decide(
    requests: readonly ModelCardinalityRequest[],
    atMs: number,
    mode: 'check' | 'checkAndUse',
  ): ModelCardinalityGrant[] {
    /** New values admitted by this call but not recorded (check), per window. */
    const unrecorded = new Map<string, Set<string>>();
    return requests.map((r) => {
      const local = unrecorded.get(windowOf(r)) ?? new Set<string>();
      unrecorded.set(windowOf(r), local);
      const grant: ModelCardinalityGrant = { grantedValues: [], refusedValues: [], cardinality: 0 };
      for (const value of r.values) {
        const tracked = this.tracked(r, atMs);
        const known = tracked.has(value) || local.has(value);
        if (known || tracked.size + local.size < r.quota.limit) {
          grant.grantedValues.push(value);
          if (mode === 'checkAndUse') this.record(r, value, atMs);
          else if (!known) local.add(value);
        } else {
          grant.refusedValues.push(value);
        }
      }
      const tracked = this.tracked(r, atMs);
      grant.cardinality = tracked.size + local.size;
      if (grant.refusedValues.length > 0) grant.retryAfterMs = this.#retryMs(r, atMs, local);
      return grant;
    });
  }

  /** Records `values` as admitted at `atMs` (what `useQuotas` does). */
  use(r: ModelCardinalityRequest, values: readonly string[], atMs: number): void {
    for (const value of values) this.record(r, value, atMs);
  }

  record(r: ModelCardinalityRequest, value: string, atMs: number): void {
    const key = windowOf(r);
    const list = this.#admissions.get(key) ?? [];
    list.push({ value, atMs });
    this.#admissions.set(key, list);
  }

  /**
   * Ms until fewer than `limit` values are tracked, if nothing is admitted meanwhile: when the
   * (cardinality - limit + 1)-th oldest value leaves, at the end of its granule's window.
   */
  #retryMs(r: ModelCardinalityRequest, atMs: number, local: ReadonlySet<string>): number {
    const { limit, windowSeconds, granularitySeconds } = r.quota;
    if (limit === 0) return Number.POSITIVE_INFINITY;
    const gms = Math.round(granularitySeconds * 1000);
    const newest = Math.floor(atMs / gms);
    const granules = [...this.tracked(r, atMs).values(), ...[...local].map(() => newest)].sort(
      (a, b) => a - b,
    );
    const leaving = granules[granules.length - limit]!;
    return Math.ceil((leaving + Math.round(windowSeconds * 1000) / gms) * gms - atMs);
  }
}
