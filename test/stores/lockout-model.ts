/**
 * A small, obviously right model of the lockout (docs/lockout.md), against which the
 * time-model suite compares every step. It keeps every refusal and reset it ever saw, with its
 * exact millisecond, forever, and replays a key's history from the start for each answer. No
 * trimmed list, no expiry, no in-process memory: those are the engine's.
 */

/** The lockout's options, in ms, as the model reads them. */
export interface ModelLockoutOptions {
  readonly after: number;
  readonly withinMs: number;
  readonly blockMs: number;
  readonly backoff: number;
  readonly maxBlockMs: number;
  readonly forgetMs: number;
}

/** A key's lockout at an instant. */
export interface ModelLockoutState {
  /** The block's end, ms; at or before the instant: not blocked. */
  untilMs: number;
  offences: number;
  /** Refusals in the period, counted since the last block started. */
  refusals: number;
  /** Instants of the refusals that count towards the next block. */
  counting: number[];
  /** When the offences are forgotten, ms. */
  forgetAtMs: number;
}

type Happening = { kind: 'refusal'; atMs: number } | { kind: 'reset'; atMs: number };

/**
 * Replays each key's refusals and resets: a refusal while blocked counts nothing; otherwise it
 * counts, and the `after`-th within `withinMs` (a period ending at it) blocks the key for
 * `blockMs` on a first offence, else the last block times `backoff` rounded up to a whole ms,
 * at most `maxBlockMs`; offences are forgotten `forgetMs` after the last block ended.
 *
 * @example
 * ```ts
 * const model = new LockoutModel({ after: 3, withinMs: 10_000, blockMs: 5_000, backoff: 2, maxBlockMs: 60_000, forgetMs: 60_000 });
 * model.refuse('k', 1_000);
 * model.at('k', 1_000).refusals; // 1
 * ```
 */
export class LockoutModel {
  readonly #options: ModelLockoutOptions;
  readonly #history = new Map<string, Happening[]>();

  constructor(options: ModelLockoutOptions) {
    this.#options = options;
  }

  /** Records a refusal of `key` at `atMs` and answers the state just after it. */
  refuse(key: string, atMs: number): ModelLockoutState & { started: boolean } {
    const before = this.at(key, atMs);
    this.#happen(key, { kind: 'refusal', atMs });
    const after = this.at(key, atMs);
    return { ...after, started: after.offences > 0 && after.untilMs > before.untilMs };
  }

  /** Records a reset of `key` at `atMs`. */
  reset(key: string, atMs: number): void {
    this.#happen(key, { kind: 'reset', atMs });
  }

  /** `key`'s lockout at `atMs`, from its whole history up to then. */
  at(key: string, atMs: number): ModelLockoutState {
    const o = this.#options;
    let s: ModelLockoutState = {
      untilMs: 0,
      offences: 0,
      refusals: 0,
      counting: [],
      forgetAtMs: 0,
    };
    let lastMs = 0;
    const forgetIfDue = (t: number) => {
      if (s.offences > 0 && s.forgetAtMs <= t) {
        s = { untilMs: 0, offences: 0, refusals: 0, counting: s.counting, forgetAtMs: 0 };
        lastMs = 0;
      }
    };
    for (const h of this.#history.get(key) ?? []) {
      if (h.atMs > atMs) break;
      if (h.kind === 'reset') {
        s = { untilMs: 0, offences: 0, refusals: 0, counting: [], forgetAtMs: 0 };
        lastMs = 0;
        continue;
      }
      forgetIfDue(h.atMs);
      if (s.untilMs > h.atMs) continue;
      s.counting.push(h.atMs);
      const inPeriod = s.counting.filter((t) => t > h.atMs - o.withinMs).length;
      if (inPeriod < o.after) continue;
      const blockMs =
        s.offences === 0 ? o.blockMs : Math.min(o.maxBlockMs, Math.ceil(lastMs * o.backoff));
      lastMs = blockMs;
      s = {
        untilMs: h.atMs + blockMs,
        offences: s.offences + 1,
        refusals: 0,
        counting: [],
        forgetAtMs: h.atMs + blockMs + o.forgetMs,
      };
    }
    forgetIfDue(atMs);
    s.refusals = s.untilMs > atMs ? 0 : s.counting.filter((t) => t > atMs - o.withinMs).length;
    return s;
  }

  /** The instants after `fromMs` where an answer about `key` may change. */
  changes(key: string, fromMs: number): number[] {
    const s = this.at(key, fromMs);
    const out = [s.untilMs, s.forgetAtMs, ...s.counting.map((t) => t + this.#options.withinMs)];
    return out.filter((t) => t > fromMs);
  }

  #happen(key: string, happening: Happening): void {
    let history = this.#history.get(key);
    if (history === undefined) {
      history = [];
      this.#history.set(key, history);
    }
    history.push(happening);
  }
}
