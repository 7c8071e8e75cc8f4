import { setTimeout as sleep } from 'node:timers/promises';
import { MemoryStore } from '@sluice/core';

/**
 * How time passes in the time-model suites. On memory a {@link ManualClock} is the store's
 * injected `clock`: it decides and expires alike, and an idle gap of hours costs nothing. On
 * Redis time is real: the scripts read Redis `TIME`, so a test sleeps through its idle gaps and
 * keeps each step away from the instants (window or granule starts, lease expiries) where the
 * model's answer changes, so that the model can tell which side of them the store decided on.
 */

/**
 * A clock that moves only when the test moves it, in milliseconds since the epoch; pass `now`
 * as a {@link MemoryStore}'s `clock`.
 *
 * @example
 * ```ts
 * const clock = new ManualClock(1_767_225_600_000);
 * const store = new MemoryStore({ clock: clock.now });
 * clock.advance(61_000); // every 60 s window of the store has passed
 * ```
 */
export class ManualClock {
  #nowMs: number;

  constructor(startMs: number) {
    this.#nowMs = startMs;
  }

  /** The clock's time in ms; a bound function, so it can be handed over as `clock`. */
  readonly now = (): number => this.#nowMs;

  /** Moves the clock `ms` forward. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`a ManualClock only moves forward, not by ${ms} ms`);
    this.#nowMs += ms;
  }
}

let stores = 0;

/**
 * A fresh {@link MemoryStore}, under a prefix of its own, whose time is `clock`.
 *
 * @example
 * ```ts
 * const store = memoryStoreOn(new ManualClock(1_767_225_600_000));
 * ```
 */
export function memoryStoreOn(clock: ManualClock): MemoryStore {
  return new MemoryStore({ prefix: `tm${process.pid}x${++stores}`, clock: clock.now });
}

/**
 * Given an interval `[fromMs, toMs]`, the end of the first instant or span in it where the
 * model's answer may change (a window start, a lease's possible expiry), or undefined.
 */
export type Boundaries = (fromMs: number, toMs: number) => number | undefined;

/** A step's result and the interval of real (or manual) time it ran in. */
export interface Timed<T> {
  readonly value: T;
  /** Time just before the step started, in ms; the model decides at this instant. */
  readonly fromMs: number;
  /** Time just after it ended, in ms (equal to `fromMs` on a manual clock). */
  readonly toMs: number;
  /**
   * Set when the step, stalled longer than the margin, still ran across a boundary (real time
   * only): the model cannot tell which side the store decided on. The sequence then takes the
   * store's answer as given and lets every window and lease pass before it compares again.
   */
  readonly crossed?: number;
}

/** How a sequence's time passes: a manual clock, or real time on a Redis. */
export interface Timeline {
  /** Lets `ms` pass: moves the manual clock, or sleeps. */
  pass(ms: number): Promise<void>;
  /**
   * Runs one step of the sequence. In real time it first waits until no boundary lies within
   * the margin ahead, and reports in `crossed` a step that still straddled one (the machine
   * stalled longer than the margin).
   */
  step<T>(run: () => Promise<T>, boundaries?: Boundaries): Promise<Timed<T>>;
}

/**
 * The timeline of a {@link ManualClock}: steps run at the clock's time, boundaries need no care.
 *
 * @example
 * ```ts
 * const time = manualTimeline(clock);
 * const { value, fromMs } = await time.step(() => limiter.inFlight('k'));
 * ```
 */
export function manualTimeline(clock: ManualClock): Timeline {
  return {
    async pass(ms) {
      clock.advance(ms);
    },
    async step(run) {
      const at = clock.now();
      const value = await run();
      if (clock.now() !== at) throw new Error('the manual clock moved during a step');
      return { value, fromMs: at, toMs: at };
    },
  };
}

/**
 * Slack around a boundary, in ms: `Date.now()` floors what Redis `TIME` gives in microseconds,
 * so a store step that ran between `fromMs` and `toMs` decided at an instant in
 * `[fromMs, toMs + 1)`.
 */
const GUARD_MS = 2;

/**
 * Real time, for steps on a Redis whose scripts read `TIME` (the same host clock as
 * `Date.now()`). A step starts only when the next boundary is at least `marginMs` away.
 *
 * @example
 * ```ts
 * const time = realTimeline({ marginMs: 300 });
 * await time.step(() => limiter.checkAndUseQuotas(requests), everySecond);
 * await time.pass(2_500); // an idle gap longer than every window
 * ```
 */
export function realTimeline(options: { marginMs: number }): Timeline {
  const { marginMs } = options;
  return {
    async pass(ms) {
      if (ms > 0) await sleep(ms);
    },
    async step(run, boundaries) {
      for (;;) {
        const now = Date.now();
        const end = boundaries?.(now - GUARD_MS, now + marginMs);
        if (end === undefined) break;
        await sleep(Math.max(0, end - now) + GUARD_MS + 1);
      }
      const fromMs = Date.now();
      const value = await run();
      const toMs = Date.now();
      const crossed = boundaries?.(fromMs - GUARD_MS, toMs + GUARD_MS);
      return crossed === undefined ? { value, fromMs, toMs } : { value, fromMs, toMs, crossed };
    },
  };
}

/**
 * Boundaries every `periodMs`, at `offsetMs + k * periodMs`: window starts, granule starts.
 *
 * @example
 * ```ts
 * const everySecond = periodicBoundaries([{ periodMs: 1000 }]);
 * everySecond(1_500, 2_200); // 2000
 * ```
 */
export function periodicBoundaries(
  periods: ReadonlyArray<{ periodMs: number; offsetMs?: number }>,
): Boundaries {
  return (fromMs, toMs) => {
    let first: number | undefined;
    for (const { periodMs, offsetMs = 0 } of periods) {
      const next = offsetMs + Math.ceil((fromMs - offsetMs) / periodMs) * periodMs;
      if (next <= toMs && (first === undefined || next < first)) first = next;
    }
    return first;
  };
}

/**
 * The end of the first span `[from, to]` of `spans` that meets `[fromMs, toMs]`.
 *
 * @example
 * ```ts
 * firstSpanIn([{ from: 10, to: 12 }], 0, 11); // 12
 * ```
 */
export function firstSpanIn(
  spans: Iterable<{ from: number; to: number }>,
  fromMs: number,
  toMs: number,
): number | undefined {
  let first: number | undefined;
  for (const { from, to } of spans) {
    if (from <= toMs && to >= fromMs && (first === undefined || to < first)) first = to;
  }
  return first;
}

/**
 * Runs every sequence at once (real time passes for all of them together) and fails with the
 * first failure, naming the sequence and its steps, once all have finished.
 *
 * @example
 * ```ts
 * await runAllSettled(fc.sample(sequenceArb, { seed: 20_261_201, numRuns: 4 }), runSequence);
 * ```
 */
export async function runAllSettled<T>(
  sequences: readonly T[],
  run: (sequence: T, index: number) => Promise<void>,
): Promise<void> {
  const results = await Promise.allSettled(sequences.map((s, i) => run(s, i)));
  const failed = results.findIndex((r) => r.status === 'rejected');
  if (failed < 0) return;
  const { reason } = results[failed] as PromiseRejectedResult;
  const message = reason instanceof Error ? reason.message : String(reason);
  throw new Error(
    `sequence ${failed} of ${sequences.length} failed: ${message}\n` +
      `sequence: ${JSON.stringify(sequences[failed])}`,
    { cause: reason },
  );
}
