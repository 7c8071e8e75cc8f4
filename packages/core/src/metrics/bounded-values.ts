/**
 * The value an attribute takes once {@link BoundedValues} has seen its most distinct values.
 *
 * @example
 * ```ts
 * const reasons = new BoundedValues(1);
 * reasons.bound('project_quota'); // 'project_quota'
 * reasons.bound('org_quota'); // OTHER_VALUE ('_other')
 * ```
 */
export const OTHER_VALUE = '_other';

/**
 * The distinct values of one metric attribute, at most `max` of them: the first `max` values
 * seen are kept as they are, every later new value becomes {@link OTHER_VALUE}. It bounds the
 * series a metric can make whatever reaches it (a category taken from a request, a quota id
 * made per project), so a flood of new values cannot exhaust the metrics backend.
 *
 * @example
 * ```ts
 * const categories = new BoundedValues(100);
 * attributes.category = categories.bound(message.category);
 * ```
 */
export class BoundedValues {
  /** Most distinct values kept. */
  readonly max: number;
  readonly #seen = new Set<string>();

  constructor(max: number) {
    this.max = max;
  }

  /** `value` when it is among the first `max` distinct values seen, else {@link OTHER_VALUE}. */
  bound(value: string): string {
    if (this.#seen.has(value)) return value;
    if (this.#seen.size >= this.max) return OTHER_VALUE;
    this.#seen.add(value);
    return value;
  }
}
