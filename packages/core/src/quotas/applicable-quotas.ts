import { InvalidConfiguration } from '../errors.js';
import { keyId } from '../store/key-parts.js';
import {
  isPlainQuota,
  type Project,
  type QuotaConfig,
  validateQuotaConfig,
} from './quota-config.js';
import type { QuotaCallOptions } from './quotas-options.js';

/** Which of a project's quotas apply to one call: by category, scope and `scopeId`. */

/**
 * The valid quotas of `configs` that apply to this request (its category, when `byCategory`,
 * and its project, organization or key); throws `InvalidConfiguration` on an invalid one.
 * Returns `configs` itself when every quota applies.
 *
 * @example
 * ```ts
 * const quotas = applicable(project, { category: 'error' }, getQuotas(project), true);
 * ```
 */
export function applicable(
  project: Project,
  opts: QuotaCallOptions,
  configs: QuotaConfig[],
  byCategory: boolean,
): QuotaConfig[] {
  if (!Array.isArray(configs)) {
    throw new InvalidConfiguration('getQuotas()', configs, 'an array of QuotaConfig');
  }
  // Most decisions keep every quota: the new array is built only once one is left out.
  let quotas: QuotaConfig[] | undefined;
  for (let i = 0; i < configs.length; i++) {
    const quota = configs[i]!;
    if (!isPlainQuota(quota)) validateQuotaConfig(quota, `getQuotas()[${i}]`);
    let applies = !byCategory || matchesCategory(quota, opts.category);
    // An empty project id is an id like any other; a missing one would share one counter.
    if (applies && quota.scope === 'project') keyId('project.id', project.id, true);
    applies &&= scopeValue(quota, project, opts.key) !== undefined;
    if (applies) quotas?.push(quota);
    else quotas ??= configs.slice(0, i);
  }
  return quotas ?? configs;
}

function matchesCategory(quota: QuotaConfig, category: string | undefined): boolean {
  const { categories } = quota;
  if (categories === undefined || categories.length === 0) return true;
  return category !== undefined && categories.includes(category);
}

/**
 * The id the quota counts per for this request (as given: ids compare as strings, but a
 * number is not turned into one), or undefined when it does not apply.
 *
 * @example
 * ```ts
 * scopeValue({ scope: 'project', limit: 10, windowSeconds: 60 }, { id: 42, organizationId: 7 }, undefined); // 42
 * ```
 */
export function scopeValue(
  quota: QuotaConfig,
  project: Project,
  key: string | undefined,
): string | number | undefined {
  const scope = quota.scope ?? 'organization';
  // A global quota counts once for everything (it has no scopeId: see validateQuotaConfig).
  if (scope === 'global') return 'global';
  const value =
    scope === 'organization' ? project.organizationId : scope === 'project' ? project.id : key;
  if (value === undefined) return undefined;
  const { scopeId } = quota;
  if (scopeId !== undefined && scopeId !== value && String(scopeId) !== String(value)) {
    return undefined;
  }
  return value;
}
