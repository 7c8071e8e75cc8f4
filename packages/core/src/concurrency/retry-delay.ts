/**
 * Pause before retry number `attempt` (0-based) of a waiting call: it starts at an eighth of
 * `intervalMs` and doubles up to `intervalMs`, each pause drawn from its upper half (jitter), so
 * waiters spread out and never spin the store. When the store said the earliest lease expires
 * in `expiresInMs`, the pause ends shortly after that instead.
 *
 * @example
 * ```ts
 * retryDelayMs(0, 1000, 0); // between 62.5 and 125
 * retryDelayMs(5, 1000, 40); // about 40: the earliest lease expires first
 * ```
 */
export function retryDelayMs(
  attempt: number,
  intervalMs: number,
  expiresInMs: number,
  random: () => number = Math.random,
): number {
  const cap = Math.min(intervalMs, (intervalMs / 8) * 2 ** attempt);
  const delay = cap * (0.5 + random() / 2);
  if (expiresInMs <= 0) return delay;
  return Math.min(delay, expiresInMs + random() * Math.min(25, intervalMs / 8));
}
