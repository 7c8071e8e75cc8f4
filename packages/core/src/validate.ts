import { InvalidConfiguration } from './errors.js';
import { isHeaderToken } from './http/header-values.js';

/** Throws {@link InvalidConfiguration} unless `value` is a finite number > 0. */
export function positiveNumber(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidConfiguration(option, value, 'a finite number greater than 0');
  }
  return value;
}

/** Throws {@link InvalidConfiguration} unless `value` is a finite number >= 0. */
export function nonNegativeNumber(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidConfiguration(option, value, 'a finite number of 0 or more');
  }
  return value;
}

/** Throws {@link InvalidConfiguration} unless `value` is a safe integer >= `min`. */
export function integerAtLeast(option: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new InvalidConfiguration(option, value, `an integer of ${min} or more`);
  }
  return value;
}

/** Throws {@link InvalidConfiguration} unless `value` is a non-empty string. */
export function nonEmptyString(option: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidConfiguration(option, value, 'a non-empty string');
  }
  return value;
}

/** Throws {@link InvalidConfiguration} unless `value` is one of `allowed`. */
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
