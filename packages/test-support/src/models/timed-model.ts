import { isDeepStrictEqual } from 'node:util';
import type { Quota } from '@sluice/core';
import { expect } from 'vitest';

/**
 * Small, obviously right models of the three engines (DESIGN section 2), against which the
 * time-model suites compare every step. They keep every count they ever made (no expiry, no
 * pruning, no cache) in exact integer milliseconds and recompute each answer from the
 * definitions, so an answer that differs is the engine's mistake, or a store's expiry showing.
 */

/**
 * Asserts that `actual` equals the model's `expected`, with vitest's diff when it does not. A
 * plain deep comparison decides first: `expect` costs a fraction of a millisecond per call on a
 * loaded machine, thousands of times per suite.
 *
 * @example
 * ```ts
 * expectModel(observedGrants, model.decide(requests, t, true), `step ${i}`);
 * ```
 */
export function expectModel(actual: unknown, expected: unknown, message: string): void {
  if (!isDeepStrictEqual(actual, expected)) expect(actual, message).toEqual(expected);
}

/** A fixed-window quota as the model reads it (no categories, no `scopeId`). */
export interface ModelQuotaConfig {
  readonly id: string;
  /** `global`: one counter for every project, windows aligned on the epoch (shift 0). */
  readonly scope: 'project' | 'organization' | 'global';
  /** null: unlimited but counted. */
  readonly limit: number | null;
  readonly windowSeconds: number;
  readonly reasonCode: string;
  /** Watched, not enforced: counted with the others, reported when it would refuse, never refusing. */
  readonly shadow?: boolean;
}

/** A project with integer ids, so the window shift is `organizationId mod window`. */
export interface ModelProject {
  readonly id: number;
  readonly organizationId: number;
}

/** The model's answer to one quota decision; `retryAfterMs` is exact. */
export interface ModelRateLimit {
  isLimited: boolean;
  retryAfterMs?: number;
  reasonCode?: string;
  /** Every exceeded quota: scope, reason, exact ms to its next window. */
  limits?: Array<{ scope: string; reasonCode: string; retryAfterMs: number }>;
  /** Every `shadow` quota that would have refused, as `limits`. */
  shadowLimits?: Array<{ scope: string; reasonCode: string; retryAfterMs: number }>;
}

/** `retryAfterMs` of a reject-all (`limit: 0`) quota: Relay's 60 s. */
const REJECT_ALL_RETRY_MS = 60_000;

/**
 * Fixed-window quotas, all-or-nothing (DESIGN 2.1): a quota's window index at `t` ms is
 * `floor((t - shift) / window)` with `shift = organizationId mod window`; a request of
 * `quantity` is refused when, for any enforced quota, `used - refunded + quantity > limit`
 * (quantity 0: `used - refunded >= limit`), and then counts nowhere; otherwise it counts in
 * every quota. A `shadow` quota never refuses: it counts with the others (a reject-all one,
 * `limit: 0`, never counts) and is listed in `shadowLimits` whenever it would have refused.
 * Global quotas (one process) are decided first: when an enforced one refuses, the refusal
 * lists the refusing global quotas (and reject-all shadow ones) only: the others are not
 * consulted. A shadow global quota that would refuse counts nothing (its units are not there
 * to take).
 *
 * @example
 * ```ts
 * const model = new FixedWindowModel([{ id: 'p', scope: 'project', limit: 2, windowSeconds: 1,
 *   reasonCode: 'project_quota' }]);
 * model.decide({ id: 1, organizationId: 7 }, 1, 1_767_225_600_000); // { isLimited: false }
 * ```
 */
export class FixedWindowModel {
  readonly quotas: readonly ModelQuotaConfig[];
  /** `quota|scope value|window index` -> units counted and refunded there. */
  readonly #counters = new Map<string, { used: number; refunded: number }>();

  constructor(quotas: readonly ModelQuotaConfig[]) {
    this.quotas = quotas;
  }

  /** Checks and, unless refused, counts `quantity` against every quota at `t` ms. */
  decide(project: ModelProject, quantity: number, t: number): ModelRateLimit {
    const exceeded: Array<{ quota: ModelQuotaConfig; retryAfterMs: number }> = [];
    type Watched = { scope: string; reasonCode: string; retryAfterMs: number };
    // A reject-all shadow quota is reported first: it is decided before the store step.
    const rejectAll: Watched[] = [];
    const watched: Watched[] = [];
    const globalRefuses = this.quotas.some(
      (q) => q.scope === 'global' && q.shadow !== true && this.#exceeds(q, project, quantity, t),
    );
    for (const quota of this.quotas) {
      if (quota.limit === null) continue;
      if (globalRefuses && quota.scope !== 'global' && quota.limit !== 0) continue;
      const held = this.usage(project, t)[this.quotas.indexOf(quota)] ?? 0;
      const over = quantity > 0 ? held + quantity > quota.limit : held >= quota.limit;
      if (!over) continue;
      if (quota.shadow === true) {
        const { scope, reasonCode } = quota;
        if (quota.limit === 0)
          rejectAll.push({ scope, reasonCode, retryAfterMs: REJECT_ALL_RETRY_MS });
        else
          watched.push({ scope, reasonCode, retryAfterMs: this.msToNextWindow(quota, project, t) });
      } else exceeded.push({ quota, retryAfterMs: this.msToNextWindow(quota, project, t) });
    }
    // A reject-all shadow quota is reported first: it is decided before the store step.
    const shadowLimits = [...rejectAll, ...watched];
    const shadow = shadowLimits.length === 0 ? {} : { shadowLimits };
    if (exceeded.length === 0) {
      // A shadow global quota that would refuse had no units to take: it counts nothing.
      const uncounted = this.quotas.filter(
        (q) => q.scope === 'global' && q.shadow === true && this.#exceeds(q, project, quantity, t),
      );
      for (const quota of this.quotas) {
        if (quota.limit !== 0 && !uncounted.includes(quota)) {
          this.#at(quota, project, t).used += quantity;
        }
      }
      return { isLimited: false, ...shadow };
    }
    let worst = exceeded[0]!;
    for (const e of exceeded) if (e.retryAfterMs > worst.retryAfterMs) worst = e;
    return {
      isLimited: true,
      retryAfterMs: worst.retryAfterMs,
      reasonCode: worst.quota.reasonCode,
      limits: exceeded.map(({ quota, retryAfterMs }) => ({
        scope: quota.scope,
        reasonCode: quota.reasonCode,
        retryAfterMs,
      })),
      ...shadow,
    };
  }

  #exceeds(quota: ModelQuotaConfig, project: ModelProject, quantity: number, t: number): boolean {
    if (quota.limit === null) return false;
    const held = this.usage(project, t)[this.quotas.indexOf(quota)] ?? 0;
    return quantity > 0 ? held + quantity > quota.limit : held >= quota.limit;
  }

  /** Adds `quantity` to the refund counter of every quota at `t` ms. */
  refund(project: ModelProject, quantity: number, t: number): void {
    for (const quota of this.quotas) {
      if (quota.limit !== 0) this.#at(quota, project, t).refunded += quantity;
    }
  }

  /** `used - refunded` of every quota in its window at `t` ms, in the order of the quotas. */
  usage(project: ModelProject, t: number): number[] {
    return this.quotas.map((quota) => {
      const counter = this.#counters.get(this.#name(quota, project, t));
      return counter === undefined ? 0 : counter.used - counter.refunded;
    });
  }

  /** Window index of `quota` for `project` at `t` ms. */
  windowIndex(quota: ModelQuotaConfig, project: ModelProject, t: number): number {
    const windowMs = quota.windowSeconds * 1000;
    return Math.floor((t - shiftMs(quota, project)) / windowMs);
  }

  /** Ms from `t` to the start of the quota's next window. */
  msToNextWindow(quota: ModelQuotaConfig, project: ModelProject, t: number): number {
    const windowMs = quota.windowSeconds * 1000;
    return (this.windowIndex(quota, project, t) + 1) * windowMs + shiftMs(quota, project) - t;
  }

  #name(quota: ModelQuotaConfig, project: ModelProject, t: number): string {
    const scopeValue =
      quota.scope === 'global'
        ? 'global'
        : quota.scope === 'project'
          ? project.id
          : project.organizationId;
    return `${quota.id}|${scopeValue}|${this.windowIndex(quota, project, t)}`;
  }

  #at(quota: ModelQuotaConfig, project: ModelProject, t: number) {
    const name = this.#name(quota, project, t);
    let counter = this.#counters.get(name);
    if (counter === undefined) {
      counter = { used: 0, refunded: 0 };
      this.#counters.set(name, counter);
    }
    return counter;
  }
}

function shiftMs(quota: ModelQuotaConfig, project: ModelProject): number {
  if (quota.scope === 'global') return 0;
  return (project.organizationId % quota.windowSeconds) * 1000;
}

/** One request of a sliding-window call, as the model reads it. */
export interface ModelRequest {
  readonly prefix: string;
  readonly requested: number;
  readonly quotas: readonly Quota[];
}

/** The model's grant; `reached` holds positions in the request's quotas, `retryAfterMs` is exact. */
export interface ModelGrant {
  granted: number;
  reached: number[];
  /** Set when granted < requested; Infinity when a limit-0 window is full. */
  retryAfterMs?: number;
}

/**
 * Sliding windows in sentry-redis-tools' model (DESIGN 2.2): a window of `n` granules at
 * granule `c` holds the units counted in granules `c - n + 1 .. c` of the same window (named by
 * `prefixOverride ?? prefix`, length and granularity). Each request of a call starts at
 * `requested` and is cut by each quota, in order, to what remains there; what it is granted
 * counts at once against the windows of later requests of the call.
 *
 * @example
 * ```ts
 * const model = new SlidingWindowModel();
 * const quota = new Quota({ windowSeconds: 1, granularitySeconds: 1, limit: 2 });
 * model.decide([{ prefix: 'p', requested: 3, quotas: [quota] }], 1_767_225_600_000, true);
 * // [{ granted: 2, reached: [0], retryAfterMs: 1000 }]
 * ```
 */
export class SlidingWindowModel {
  /** Window name -> granule -> units counted there, forever. */
  readonly #windows = new Map<string, Map<number, number>>();

  /** Decides `requests` at `t` ms; counts the grants when `consume`. */
  decide(requests: readonly ModelRequest[], t: number, consume: boolean): ModelGrant[] {
    const pending: Array<[name: string, granule: number, units: number]> = [];
    const held = (name: string, c: number, n: number) => {
      let units = this.#sum(name, c, n);
      for (const [pName, g, u] of pending) if (pName === name && g > c - n && g <= c) units += u;
      return units;
    };
    const grants = requests.map((request) => {
      let granted = request.requested;
      const reached: number[] = [];
      request.quotas.forEach((quota, position) => {
        const { name, c, n } = place(request.prefix, quota, t);
        const remaining = Math.max(0, quota.limit - held(name, c, n));
        if (remaining < granted) {
          granted = remaining;
          reached.push(position);
        }
      });
      for (const name of new Set(request.quotas.map((q) => place(request.prefix, q, t).name))) {
        const quota = request.quotas.find((q) => place(request.prefix, q, t).name === name)!;
        pending.push([name, place(request.prefix, quota, t).c, granted]);
      }
      const grant: ModelGrant = { granted, reached };
      if (granted < request.requested) {
        // The first granule start at which every window of the request has room for one unit.
        let retryAfterMs = 0;
        for (const quota of request.quotas) {
          const { name, c, n } = place(request.prefix, quota, t);
          if (held(name, c, n) < quota.limit) continue;
          if (quota.limit === 0) {
            retryAfterMs = Number.POSITIVE_INFINITY;
            continue;
          }
          let k = c + 1;
          while (held(name, k, n) >= quota.limit) k++;
          retryAfterMs = Math.max(retryAfterMs, k * quota.granularityMs - t);
        }
        grant.retryAfterMs = retryAfterMs;
      }
      return grant;
    });
    if (consume) for (const [name, g, units] of pending) this.#add(name, g, units);
    return grants;
  }

  /** Counts `units[i]` against every window of `requests[i]`, at `t` ms. */
  use(requests: readonly ModelRequest[], units: readonly number[], t: number): void {
    requests.forEach((request, i) => {
      for (const name of new Set(request.quotas.map((q) => place(request.prefix, q, t).name))) {
        const quota = request.quotas.find((q) => place(request.prefix, q, t).name === name)!;
        this.#add(name, place(request.prefix, quota, t).c, units[i]!);
      }
    });
  }

  /** Units held by the window of `quota` for `prefix` at `t` ms. */
  used(prefix: string, quota: Quota, t: number): number {
    const { name, c, n } = place(prefix, quota, t);
    return this.#sum(name, c, n);
  }

  #sum(name: string, c: number, n: number): number {
    let units = 0;
    for (const [g, u] of this.#windows.get(name) ?? []) if (g > c - n && g <= c) units += u;
    return units;
  }

  #add(name: string, g: number, units: number): void {
    if (units === 0) return;
    const window = this.#windows.get(name) ?? new Map<number, number>();
    this.#windows.set(name, window);
    window.set(g, (window.get(g) ?? 0) + units);
  }
}

/** The window a quota names for a prefix, its granule at `t` ms and its length in granules. */
function place(prefix: string, quota: Quota, t: number): { name: string; c: number; n: number } {
  return {
    name: `${quota.prefixOverride ?? prefix}|${quota.windowSeconds}|${quota.granularitySeconds}`,
    c: Math.floor(t / quota.granularityMs),
    n: quota.granulesPerWindow,
  };
}

/** What became of a lease in the model. */
export type ModelLeaseState = 'held' | 'released' | 'lost';

/** One lease the model granted. */
export interface ModelLease {
  readonly key: string;
  state: ModelLeaseState;
  /**
   * When it expires, in ms: a span, since on Redis the grant (or renewal) happened at some
   * instant of the step that made it. It is live at `t` while `t < expires.from`; the test never
   * runs a step inside the span.
   */
  expires: { from: number; to: number };
}

/**
 * The concurrency limiter's semaphore (DESIGN 2.3): at most `limit` live leases per key; a lease
 * lives `leaseMs` from its grant or last renewal; an acquire is granted when fewer than `limit`
 * leases of the key are live. A lease that expired, was reset or released is gone for good: its
 * renewal fails, and its release frees nothing.
 *
 * @example
 * ```ts
 * const model = new LeaseModel({ limit: 1, leaseMs: 1000 });
 * const lease = model.acquire('k', 0, 0); // granted
 * model.inFlight('k', 1500); // 0: the lease expired
 * ```
 */
export class LeaseModel {
  readonly limit: number;
  readonly leaseMs: number;
  /** Every lease granted, in order. */
  readonly leases: ModelLease[] = [];

  constructor(options: { limit: number; leaseMs: number }) {
    this.limit = options.limit;
    this.leaseMs = options.leaseMs;
  }

  /** Leases of `key` live at `t`. */
  inFlight(key: string, t: number): number {
    return this.leases.filter((l) => l.key === key && this.#live(l, t)).length;
  }

  /** The lease granted by an acquire run in `[from, to]`, or null when the key is full. */
  acquire(key: string, from: number, to: number): ModelLease | null {
    if (this.inFlight(key, from) >= this.limit) return null;
    return this.grant(key, from, to);
  }

  /** Records a lease the store granted in `[from, to]`, full or not (a step the test could not place). */
  grant(key: string, from: number, to: number): ModelLease {
    const lease: ModelLease = {
      key,
      state: 'held',
      expires: { from: from + this.leaseMs, to: to + 1 + this.leaseMs },
    };
    this.leases.push(lease);
    return lease;
  }

  /** Gives `lease` back: it frees its slot only while live. */
  release(lease: ModelLease): void {
    if (lease.state === 'held') lease.state = 'released';
  }

  /** Renews `lease` in `[from, to]`: true while it is live; once it is not, it is lost for good. */
  extend(lease: ModelLease, from: number, to: number): boolean {
    if (!this.#live(lease, from)) {
      if (lease.state === 'held') lease.state = 'lost';
      return false;
    }
    lease.expires = { from: from + this.leaseMs, to: to + 1 + this.leaseMs };
    return true;
  }

  /** Drops every lease of `key`. */
  reset(key: string): void {
    for (const lease of this.leases) {
      if (lease.key === key && lease.state === 'held') lease.state = 'lost';
    }
  }

  /** The expiry spans of the leases still held: where a step on Redis must not run. */
  expirySpans(): Array<{ from: number; to: number }> {
    return this.leases.filter((l) => l.state === 'held').map((l) => l.expires);
  }

  #live(lease: ModelLease, t: number): boolean {
    return lease.state === 'held' && t < lease.expires.from;
  }
}
