/**
 * Formats a number for a benchmark's table: `digits` decimals, thousands grouped.
 *
 * @example
 * ```ts
 * fmt(12345.678, 1); // '12,345.7'
 * ```
 */
export function fmt(value: number, digits = 0): string {
  return value.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}
