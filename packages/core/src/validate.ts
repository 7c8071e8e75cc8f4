import { InvalidConfiguration } from './errors.js';

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
