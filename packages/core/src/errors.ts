/**
 * Stable error codes. A code is never reused for another meaning; each has one line in
 * `docs/errors.md` saying what it means and how to fix it.
 */
export const ErrorCode = {
  invalidConfiguration: 'SLUICE_INVALID_CONFIGURATION',
  storeUnavailable: 'SLUICE_STORE_UNAVAILABLE',
} as const;

/** One of the stable codes in {@link ErrorCode}. */
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * Base class of every error sluice throws on purpose. Denials are never errors: engines resolve
 * to a result (`RateLimit`, `GrantedQuota[]`, a `Lease` or `null`).
 */
export class SluiceError extends Error {
  /** Stable machine-readable code, see {@link ErrorCode}. */
  readonly code: ErrorCodeValue;

  constructor(code: ErrorCodeValue, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'SluiceError';
  }
}

/**
 * A configuration value is invalid. Constructors throw it; configuration that arrives per call
 * (a `getQuotas` result, a `Quota` list, a quantity) rejects that call with it.
 *
 * @example
 * ```ts
 * try { new MemoryStore({ maxKeys: 0 }); }
 * catch (e) { if (e instanceof InvalidConfiguration) console.log(e.option, e.value); }
 * ```
 */
export class InvalidConfiguration extends SluiceError {
  /** The option's name as the user wrote it, with its path where it is nested (`quotas[1].limit`). */
  readonly option: string;
  /** The value received. */
  readonly value: unknown;

  constructor(option: string, value: unknown, expected: string) {
    super(
      ErrorCode.invalidConfiguration,
      `Invalid sluice option \`${option}\`: expected ${expected}, received ${describe(value)}.`,
    );
    this.option = option;
    this.value = value;
    this.name = 'InvalidConfiguration';
  }
}

/**
 * The store failed or missed its deadline (`timeoutMs`). After a timeout nobody knows whether
 * the operation counted: a hung Redis may still run it when it resumes.
 */
export class StoreUnavailableError extends SluiceError {
  /** True when the deadline passed; false when the store answered with an error. */
  readonly timedOut: boolean;

  constructor(message: string, options: { timedOut: boolean; cause?: unknown }) {
    super(ErrorCode.storeUnavailable, message, { cause: options.cause });
    this.timedOut = options.timedOut;
    this.name = 'StoreUnavailableError';
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') {
    return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}...` : value);
  }
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') {
    return String(value);
  }
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return typeof value === 'function' ? 'a function' : 'an object';
}

/**
 * True for a {@link StoreUnavailableError}, recognised by its code, so it holds even when the
 * store and the engine come from two installed copies of `@sluice/core`.
 */
export function isStoreUnavailable(error: unknown): error is StoreUnavailableError {
  return (
    error instanceof Error && (error as { code?: unknown }).code === ErrorCode.storeUnavailable
  );
}

/**
 * True for an {@link InvalidConfiguration}, recognised by its code, so it holds even when two
 * copies of `@sluice/core` are installed.
 *
 * @example
 * ```ts
 * try { await quotas.isRateLimited(project); }
 * catch (e) { if (isInvalidConfiguration(e)) console.error(e.option, e.message); }
 * ```
 */
export function isInvalidConfiguration(error: unknown): error is InvalidConfiguration {
  return (
    error instanceof Error && (error as { code?: unknown }).code === ErrorCode.invalidConfiguration
  );
}
