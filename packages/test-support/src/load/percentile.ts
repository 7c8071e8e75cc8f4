/**
 * The `q` quantile of ascending `sorted` values (the value below which a fraction `q` of them
 * lie, by rank, no interpolation); NaN when there are none.
 *
 * @example
 * ```ts
 * latencies.sort((a, b) => a - b);
 * const p99Ms = percentile(latencies, 0.99);
 * ```
 */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}
