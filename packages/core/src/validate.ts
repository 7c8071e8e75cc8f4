import { InvalidConfiguration } from './errors.js';
import { isHeaderToken } from './http/header-values.js';

/**
 * The checks every option goes through, in one place, each throwing an
 * {@link InvalidConfiguration} that names the option. The bounds keep every number inside what
 * both stores compute exactly: Redis keys print granules and windows as integers below 1e14,
 * replies carry microseconds, and Node timers overflow past 2^31 - 1 ms.
 */

/**
 * Longest window, grace or lease, in seconds (about 31 years).
 *
 * @example
 * ```ts
 * positiveSeconds('windowSeconds', 2e9); // throws InvalidConfiguration: at most 1e9
 * ```
 */
export const MAX_DURATION_SECONDS = 1e9;

/**
 * Timestamps are seconds since the epoch below this bound (the year 5138): past it the
 * microseconds a store answers with lose precision and Redis and memory would disagree.
 *
 * @example
 * ```ts
 * timestampSeconds('timestamp', Date.now()); // throws: milliseconds passed as seconds
 * ```
 */
export const MAX_TIMESTAMP_SECONDS = 1e11;

/**
 * Longest delay a Node timer honours (2^31 - 1 ms, about 24.8 days); a longer one fires at once.
 *
 * @example
 * ```ts
 * setTimeout(tick, Math.min(everyMs, MAX_TIMER_MS));
 * ```
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Throws {@link InvalidConfiguration} unless `value` is a finite number > 0.
 *
 * @example
 * ```ts
 * positiveNumber('retryIntervalSeconds', 0.5); // 0.5
 * ```
 */
export function positiveNumber(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidConfiguration(option, value, 'a finite number greater than 0');
  }
  return value;
}

/**
 * Throws {@link InvalidConfiguration} unless `value` is a finite number >= 0.
 *
 * @example
 * ```ts
 * nonNegativeNumber('waitSeconds', 0); // 0
 * ```
 */
export function nonNegativeNumber(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidConfiguration(option, value, 'a finite number of 0 or more');
  }
  return value;
}

/**
 * Throws {@link InvalidConfiguration} unless `value` is a duration in seconds greater than 0 and
 * at most `max` ({@link MAX_DURATION_SECONDS} unless given): a window or a lease.
 *
 * @example
 * ```ts
 * positiveSeconds('leaseSeconds', 300); // 300
 * positiveSeconds('leaseSeconds', 1e16); // throws: at most 1e9 seconds
 * ```
 */
export function positiveSeconds(
  option: string,
  value: unknown,
  max = MAX_DURATION_SECONDS,
): number {
  if (typeof value !== 'number' || !(value > 0 && value <= max)) {
    throw new InvalidConfiguration(
      option,
      value,
      `a number of seconds greater than 0 and at most ${max}`,
    );
  }
  return value;
}

/**
 * Throws {@link InvalidConfiguration} unless `value` is a duration in seconds from 0 to
 * {@link MAX_DURATION_SECONDS}: a grace period, where 0 means none.
 *
 * @example
 * ```ts
 * nonNegativeSeconds('graceSeconds', 0); // 0
 * nonNegativeSeconds('graceSeconds', 1e14); // throws: at most 1e9 seconds
 * ```
 */
export function nonNegativeSeconds(option: string, value: unknown): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= MAX_DURATION_SECONDS)) {
    throw new InvalidConfiguration(
      option,
      value,
      `a number of seconds from 0 to ${MAX_DURATION_SECONDS}`,
    );
  }
  return value;
}

/**
 * Throws {@link InvalidConfiguration} unless `value` is a timestamp in seconds since the epoch,
 * finite and in [0, {@link MAX_TIMESTAMP_SECONDS}). It is never compared with the clock: a
 * decision may be asked about any instant, past or future.
 *
 * @example
 * ```ts
 * timestampSeconds('timestamp', 100); // 100
 * timestampSeconds('timestamp', Date.now()); // throws: milliseconds are not seconds
 * ```
 */
export function timestampSeconds(option: string, value: unknown): number {
  if (typeof value !== 'number' || !(value >= 0 && value < MAX_TIMESTAMP_SECONDS)) {
    throw new InvalidConfiguration(
      option,
      value,
      `seconds since the epoch, at least 0 and below ${MAX_TIMESTAMP_SECONDS} (not milliseconds)`,
    );
  }
  return value;
}

/**
 * Throws {@link InvalidConfiguration} unless `value` is a number of milliseconds a Node timer
 * can wait: greater than 0 and at most {@link MAX_TIMER_MS}.
 *
 * @example
 * ```ts
 * timerMs('timeoutMs', 200); // 200
 * timerMs('timeoutMs', 1e10); // throws: Node would fire the timer at once
 * ```
 */
export function timerMs(option: string, value: unknown): number {
  if (typeof value !== 'number' || !(value > 0 && value <= MAX_TIMER_MS)) {
    throw new InvalidConfiguration(
      option,
      value,
      `a number of milliseconds greater than 0 and at most ${MAX_TIMER_MS} (2^31 - 1)`,
    );
  }
  return value;
}

/**
 * Throws {@link InvalidConfiguration} unless `value` is a safe integer >= `min`.
 *
 * @example
 * ```ts
 * integerAtLeast('limit', 5, 1); // 5
 * ```
 */
export function integerAtLeast(option: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new InvalidConfiguration(option, value, `an integer of ${min} or more`);
  }
  return value;
}

/**
 * Throws {@link InvalidConfiguration} unless `value` is a non-empty string.
 *
 * @example
 * ```ts
 * nonEmptyString('reasonCode', 'project_quota'); // 'project_quota'
 * ```
 */
export function nonEmptyString(option: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidConfiguration(option, value, 'a non-empty string');
  }
  return value;
}

/**
 * Throws {@link InvalidConfiguration} unless `value` is one of `allowed`.
 *
 * @example
 * ```ts
 * oneOf('mode', 'shadow', ['enforce', 'shadow']); // 'shadow'
 * ```
 */
export function oneOf<T extends string>(option: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) {
    throw new InvalidConfiguration(
      option,
      value,
      `one of ${allowed.map((a) => `'${a}'`).join(', ')}`,
    );
  }
  return value as T;
}

/**
 * Throws {@link InvalidConfiguration} unless `value` is undefined or a boolean.
 *
 * @example
 * ```ts
 * const failFast = optionalBoolean('failFast', options.failFast) ?? true;
 * ```
 */
export function optionalBoolean(option: string, value: unknown): boolean | undefined {
  if (value !== undefined && typeof value !== 'boolean') {
    throw new InvalidConfiguration(option, value, 'a boolean');
  }
  return value;
}

/**
 * The options object of a constructor: `value` itself, or `{}` when undefined. Throws
 * {@link InvalidConfiguration} when it is not an object (`null` included), or when it holds an
 * option not in `known` (a misspelled option must never mean "use the default"). An option set
 * to `undefined` counts as absent.
 *
 * @example
 * ```ts
 * const o = optionsObject('options', options, ['maxKeys', 'clock', 'prefix']);
 * new MemoryStore({ maxkeys: 10 } as never); // throws naming `maxkeys`
 * ```
 */
export function optionsObject<T extends object>(
  option: string,
  value: T | undefined,
  known: readonly (keyof T & string)[],
): Partial<T> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidConfiguration(option, value, 'an options object');
  }
  for (const key of Object.keys(value)) {
    if (
      !known.includes(key as keyof T & string) &&
      (value as Record<string, unknown>)[key] !== undefined
    ) {
      const path = option === 'options' ? key : `${option}.${key}`;
      throw new InvalidConfiguration(
        path,
        (value as Record<string, unknown>)[key],
        `one of the known options (${known.map((k) => `\`${k}\``).join(', ')}); check its spelling`,
      );
    }
  }
  return value;
}

/**
 * Throws {@link InvalidConfiguration} unless `value` can be written into a header as it is: 1 to
 * 128 HTTP token characters, none of them `,`, `:`, `;`, `%`, a space or a control character.
 * Reason codes and quota categories end up in `X-Sentry-Rate-Limits`.
 */
export function headerToken(option: string, value: unknown): string {
  if (!isHeaderToken(value)) {
    throw new InvalidConfiguration(
      option,
      value,
      "a token of 1 to 128 letters, digits or !#$&'*+-.^_`|~ (no space, `,`, `:`, `;` or `%`)",
    );
  }
  return value as string;
}
