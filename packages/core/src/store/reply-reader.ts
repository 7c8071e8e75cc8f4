import { StoreUnavailableError } from '../errors.js';
import type { Reply } from './store.js';

/**
 * Checked readers of operation replies: a reply of another shape than the operation's
 * documented one (a script of another version, a proxy that rewrote it) becomes a
 * `StoreUnavailableError` naming the operation, so the caller's failure policy applies, instead
 * of a `NaN` or `undefined` deciding a request.
 */

function unexpected(operation: string, reply: unknown, expected: string): StoreUnavailableError {
  const seen = Array.isArray(reply) ? `an array of ${reply.length}` : JSON.stringify(reply);
  return new StoreUnavailableError(
    `${operation} answered ${seen ?? String(reply)}, expected ${expected}`,
    { timedOut: false },
  );
}

/**
 * The reply as an integer.
 *
 * @example
 * ```ts
 * const live = readInteger('sluice_concurrency_count', reply); // 3
 * ```
 */
export function readInteger(operation: string, reply: Reply): number {
  if (typeof reply !== 'number' || !Number.isInteger(reply)) {
    throw unexpected(operation, reply, 'an integer');
  }
  return reply;
}

/**
 * The reply as an array of at least `length` integers (exactly `length` unless `atLeast`).
 *
 * @example
 * ```ts
 * const [acquired, live, reclaimed, expiresInMs] = readIntegers('sluice_concurrency_acquire', reply, 4);
 * ```
 */
export function readIntegers(
  operation: string,
  reply: Reply,
  length: number,
  atLeast = false,
): number[] {
  if (
    !Array.isArray(reply) ||
    (atLeast ? reply.length < length : reply.length !== length) ||
    !allIntegers(reply)
  ) {
    throw unexpected(operation, reply, `${atLeast ? 'at least' : 'exactly'} ${length} integers`);
  }
  return reply;
}

function allIntegers(values: Reply[]): values is number[] {
  for (const value of values) {
    if (typeof value !== 'number' || !Number.isInteger(value)) return false;
  }
  return true;
}

/**
 * The reply as an array of at least `length` items, each left for the caller to read.
 *
 * @example
 * ```ts
 * const [head, ...rows] = readArray('sluice_sliding_window_decide', reply, 1);
 * ```
 */
export function readArray(operation: string, reply: Reply, length: number): Reply[] {
  if (!Array.isArray(reply) || reply.length < length) {
    throw unexpected(operation, reply, `an array of at least ${length}`);
  }
  return reply;
}
