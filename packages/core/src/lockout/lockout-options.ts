import { InvalidConfiguration } from '../errors.js';
import { integerAtLeast, optionsObject, positiveSeconds } from '../validate.js';

/**
 * Default longest block, when `backoff` would grow it without end: a day (or `blockSeconds`,
 * when that is longer).
 *
 * @example
 * ```ts
 * new Lockout(store, { after: 5, withinSeconds: 60, blockSeconds: 60, backoff: 2 }).options.maxBlockMs; // 86_400_000
 * ```
 */
export const DEFAULT_MAX_BLOCK_SECONDS = 86_400;

/**
 * Default time after a block ends at which its offences are forgotten: a day.
 *
 * @example
 * ```ts
 * new Lockout(store, { after: 5, withinSeconds: 60, blockSeconds: 60 }).options.forgetMs; // 86_400_000
 * ```
 */
export const DEFAULT_FORGET_SECONDS = 86_400;

/**
 * Default growth of a block per repeat offence: none.
 *
 * @example
 * ```ts
 * new Lockout(store, { after: 5, withinSeconds: 60, blockSeconds: 60 }).options.backoff; // 1
 * ```
 */
export const DEFAULT_BACKOFF = 1;

/**
 * Most refusals a lockout may wait for: the store keeps this many timestamps per key at most.
 *
 * @example
 * ```ts
 * new Lockout(store, { after: MAX_LOCKOUT_AFTER + 1, withinSeconds: 60, blockSeconds: 60 }); // throws naming `after`
 * ```
 */
export const MAX_LOCKOUT_AFTER = 1000;

/** Largest growth factor per offence. */
const MAX_BACKOFF = 100;

/**
 * Options of {@link Lockout}: after `after` refusals within `withinSeconds`, a key is blocked for
 * `blockSeconds`, times `backoff` for each repeat offence, at most `maxBlockSeconds`; offences
 * are forgotten `forgetSeconds` after the last block ends.
 *
 * @example
 * ```ts
 * const options: LockoutOptions = { after: 5, withinSeconds: 60, blockSeconds: 30, backoff: 2, maxBlockSeconds: 3600 };
 * ```
 */
export interface LockoutOptions {
  /** Refusals that start a block: an integer from 1 to 1000. */
  after: number;
  /** The period the refusals must fall in (a sliding period ending at each refusal), seconds. */
  withinSeconds: number;
  /** Length of the first block, seconds. */
  blockSeconds: number;
  /**
   * Factor by which each repeat offence lengthens the block (1: every block is as long; 2:
   * exponential, doubling), from 1 to 100. @default 1
   */
  backoff?: number;
  /** Longest block, seconds; at least `blockSeconds`. @default the longer of a day and `blockSeconds` */
  maxBlockSeconds?: number;
  /** Seconds after the end of the last block at which the offences are forgotten. @default 86400 */
  forgetSeconds?: number;
}

/**
 * {@link LockoutOptions} validated, in whole milliseconds, as the operations read them.
 *
 * @example
 * ```ts
 * const resolved = resolveLockoutOptions({ after: 3, withinSeconds: 10, blockSeconds: 5 });
 * resolved.blockMs; // 5000
 * ```
 */
export interface ResolvedLockoutOptions {
  readonly after: number;
  readonly withinMs: number;
  readonly blockMs: number;
  readonly backoff: number;
  readonly maxBlockMs: number;
  readonly forgetMs: number;
}

/**
 * The options `Lockout` takes; any other throws `InvalidConfiguration` naming it.
 *
 * @example
 * ```ts
 * LOCKOUT_ENGINE_OPTION_NAMES.includes('blockDuration' as never); // false: rate-limiter-flexible's name
 * ```
 */
export const LOCKOUT_ENGINE_OPTION_NAMES: readonly (keyof LockoutOptions)[] = [
  'after',
  'withinSeconds',
  'blockSeconds',
  'backoff',
  'maxBlockSeconds',
  'forgetSeconds',
];

/** Seconds as whole milliseconds, at least 1. */
const wholeMs = (seconds: number) => Math.max(1, Math.ceil(seconds * 1000));

/**
 * Validates `options` (under `path`, e.g. `lockout` for the HTTP option) and resolves their
 * defaults; throws {@link InvalidConfiguration} naming the first bad option.
 *
 * @example
 * ```ts
 * resolveLockoutOptions({ after: 0, withinSeconds: 10, blockSeconds: 5 }); // throws naming `after`
 * resolveLockoutOptions({ after: 3, withinSeconds: 10, blockSeconds: 5 }, 'lockout').maxBlockMs; // 86_400_000
 * ```
 */
export function resolveLockoutOptions(
  options: LockoutOptions,
  path = 'options',
  extra: readonly string[] = [],
): ResolvedLockoutOptions {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new InvalidConfiguration(path, options, 'a lockout options object');
  }
  const name = (option: string) => (path === 'options' ? option : `${path}.${option}`);
  optionsObject(path, options, [
    ...LOCKOUT_ENGINE_OPTION_NAMES,
    ...(extra as (keyof LockoutOptions)[]),
  ]);
  const after = integerAtLeast(name('after'), options.after, 1);
  if (after > MAX_LOCKOUT_AFTER) {
    throw new InvalidConfiguration(
      name('after'),
      after,
      `an integer from 1 to ${MAX_LOCKOUT_AFTER}`,
    );
  }
  const withinSeconds = positiveSeconds(name('withinSeconds'), options.withinSeconds);
  const blockSeconds = positiveSeconds(name('blockSeconds'), options.blockSeconds);
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  if (typeof backoff !== 'number' || !(backoff >= 1 && backoff <= MAX_BACKOFF)) {
    throw new InvalidConfiguration(
      name('backoff'),
      backoff,
      `a number from 1 (no growth) to ${MAX_BACKOFF} (2 doubles each repeat block)`,
    );
  }
  const maxBlockSeconds =
    options.maxBlockSeconds === undefined
      ? Math.max(DEFAULT_MAX_BLOCK_SECONDS, blockSeconds)
      : positiveSeconds(name('maxBlockSeconds'), options.maxBlockSeconds);
  if (maxBlockSeconds < blockSeconds) {
    throw new InvalidConfiguration(
      name('maxBlockSeconds'),
      maxBlockSeconds,
      `at least blockSeconds (${blockSeconds})`,
    );
  }
  const forgetSeconds =
    options.forgetSeconds === undefined
      ? DEFAULT_FORGET_SECONDS
      : positiveSeconds(name('forgetSeconds'), options.forgetSeconds);
  return {
    after,
    withinMs: wholeMs(withinSeconds),
    blockMs: wholeMs(blockSeconds),
    backoff,
    maxBlockMs: wholeMs(maxBlockSeconds),
    forgetMs: wholeMs(forgetSeconds),
  };
}
