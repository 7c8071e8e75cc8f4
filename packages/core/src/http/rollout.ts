import { valueHash } from '../cardinality/value-hash.js';
import { InvalidConfiguration } from '../errors.js';
import type { Project } from '../quotas/quota-config.js';

/**
 * The `enforce` option as a predicate: the app's own function, or, for a fraction in [0, 1],
 * the projects a gradual rollout enforces. A project's place in the rollout is a stable hash of
 * its organization and id, so it never flaps between requests or processes, and the projects
 * in at 10% are still in at 50% (in when its place is below the fraction).
 *
 * @example
 * ```ts
 * const enforced = enforcePredicate(0.1); // about 10% of projects, always the same ones
 * enforced({ id: 42, organizationId: 7 }); // true or false, the same every time
 * ```
 */
export function enforcePredicate(
  enforce: ((project: Project) => boolean) | number | undefined,
): ((project: Project) => boolean) | undefined {
  if (enforce === undefined || typeof enforce === 'function') return enforce;
  if (typeof enforce !== 'number' || !(enforce >= 0 && enforce <= 1)) {
    throw new InvalidConfiguration(
      'enforce',
      enforce,
      'a fraction from 0 to 1 of the projects, or a function of the project',
    );
  }
  if (enforce === 1) return undefined;
  const threshold = enforce * 2 ** 32;
  return (project) => rolloutPlace(project) < threshold;
}

/**
 * Where `project` stands in every gradual rollout, from 0 to 2^32 - 1: the low 32 bits of the
 * well-mixed hash the cardinality limiter keeps values by, over its organization and id.
 *
 * @example
 * ```ts
 * rolloutPlace({ id: 1, organizationId: 1 }) / 2 ** 32; // a fixed number in [0, 1)
 * ```
 */
export function rolloutPlace(project: Project): number {
  return valueHash(`${project.organizationId}\u0000${project.id}`) % 2 ** 32;
}
