import { encodeCategory, wholeSeconds } from './header-values.js';

/** One policy that applied to a request, as the IETF headers describe it. */
export interface PolicyState {
  /** The policy's name: a quota's id, `window_<seconds>s`, `concurrency`. */
  readonly name: string;
  /** Units allowed per window (or at once, for concurrency). */
  readonly quota: number;
  /** The window, in seconds; absent for concurrency, which has none. */
  readonly windowSeconds?: number;
  /** Units left after this request; absent when the engine does not say (an admitting window). */
  readonly remaining?: number;
  /** Seconds until the policy lets more in; absent when unknown. */
  readonly resetSeconds?: number;
  /** True when this policy refused the request. */
  readonly refused: boolean;
}

/**
 * Remembers the policies of one request, each name once: a policy seen twice (two items under
 * one quota) keeps its fewest units left.
 *
 * @example
 * ```ts
 * const policies = new Policies();
 * policies.add({ name: 'p', quota: 100, windowSeconds: 60, remaining: 99, resetSeconds: 12, refused: false });
 * policies.headers(); // { 'RateLimit-Policy': '"p";q=100;w=60', RateLimit: '"p";r=99;t=12' }
 * ```
 */
export class Policies {
  readonly #byName = new Map<string, PolicyState>();

  /** True when no policy applied. */
  get empty(): boolean {
    return this.#byName.size === 0;
  }

  /** Adds `policy`, or tightens the one of the same name and shape. */
  add(policy: PolicyState): void {
    const known = this.#byName.get(policy.name);
    if (known === undefined) {
      this.#byName.set(policy.name, policy);
      return;
    }
    if (known.quota !== policy.quota || known.windowSeconds !== policy.windowSeconds) {
      // Another policy under the same name (two quotas of one id): keep both, apart.
      this.add({ ...policy, name: `${policy.name}_` });
      return;
    }
    if (policy.refused || (policy.remaining ?? Infinity) < (known.remaining ?? Infinity)) {
      this.#byName.set(policy.name, { ...policy, refused: policy.refused || known.refused });
    }
  }

  /**
   * `RateLimit-Policy` and `RateLimit` as draft-ietf-httpapi-ratelimit-headers-11 writes them:
   * Structured Field lists with one item per policy, the binding one first (those that refused,
   * longest wait first; then the fewest units left). `RateLimit` lists the policies whose
   * units left are known. Every number is a finite integer.
   */
  headers(): Record<string, string> {
    const policies = [...this.#byName.values()].sort(binding);
    const headers: Record<string, string> = {
      'RateLimit-Policy': policies.map(policyItem).join(', '),
    };
    const known = policies.filter((p) => p.remaining !== undefined);
    if (known.length > 0) headers.RateLimit = known.map(limitItem).join(', ');
    return headers;
  }
}

function binding(a: PolicyState, b: PolicyState): number {
  if (a.refused !== b.refused) return a.refused ? -1 : 1;
  if (a.refused) return (b.resetSeconds ?? 0) - (a.resetSeconds ?? 0);
  return (a.remaining ?? Infinity) - (b.remaining ?? Infinity);
}

/** A policy name as a Structured Field string: token characters only, so nothing to escape. */
function nameOf(policy: PolicyState): string {
  return `"${encodeCategory(policy.name)}"`;
}

function policyItem(policy: PolicyState): string {
  const window = policy.windowSeconds === undefined ? '' : `;w=${integer(policy.windowSeconds)}`;
  return `${nameOf(policy)};q=${integer(policy.quota)}${window}`;
}

function limitItem(policy: PolicyState): string {
  const reset =
    policy.resetSeconds === undefined
      ? ''
      : `;t=${policy.refused ? wholeSeconds(policy.resetSeconds) : resetInteger(policy.resetSeconds)}`;
  return `${nameOf(policy)};r=${integer(policy.remaining!)}${reset}`;
}

/** A finite integer of 0 or more. */
function integer(value: number): number {
  return Number.isFinite(value) ? Math.max(0, Math.floor(value)) : 0;
}

/** Seconds to a reset, rounded up, 0 or more, finite. */
function resetInteger(seconds: number): number {
  return Number.isFinite(seconds) ? Math.max(0, Math.ceil(seconds - 1e-9)) : wholeSeconds(seconds);
}
