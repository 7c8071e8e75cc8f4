import { InvalidConfiguration } from '../errors.js';
import { isHeaderToken } from '../http/header-values.js';
import {
  headerToken,
  integerAtLeast,
  nonEmptyString,
  oneOf,
  positiveSeconds,
} from '../validate.js';

/**
 * What a quota counts per: the whole organization, one project, one public key, or everything
 * (`global`: one counter shared by every organization and process, spent from budget slices
 * each process takes in one atomic step; see docs/global-quotas.md).
 */
export type QuotaScope = 'organization' | 'project' | 'key' | 'global';

/** The scopes a {@link QuotaConfig} may name. */
export const QUOTA_SCOPES: readonly QuotaScope[] = ['organization', 'project', 'key', 'global'];

/**
 * One fixed-window quota, as Sentry and Relay define it.
 *
 * @example
 * ```ts
 * const perProject: QuotaConfig = { id: 'p', scope: 'project', limit: 100, windowSeconds: 60,
 *   reasonCode: 'project_quota', categories: ['error'] };
 * ```
 */
export interface QuotaConfig {
  /** Counter id, e.g. `p` or `o`; quotas with the same id and scope share a counter. */
  id: string;
  /** What the quota counts per. @default 'organization' */
  scope?: QuotaScope;
  /**
   * Applies only when it matches the request's organization, project or key id (compared as
   * strings). Not allowed on a `global` quota, which applies to every request of its categories.
   */
  scopeId?: string;
  /** Data categories it applies to; absent or empty: all. */
  categories?: string[];
  /**
   * `null`: unlimited but counted; `0`: **reject all** without a store call (retry after 60 s,
   * as Relay); `> 0`: enforced. Not the setting of {@link projectQuota}, where 0 means unlimited.
   */
  limit: number | null;
  /** Window length in whole seconds, from 1 to 1e9; may be 0 when `limit` is 0. */
  windowSeconds: number;
  /**
   * Machine-readable reason of a refusal, e.g. `project_quota`; required unless `limit` is null.
   * An HTTP token (letters, digits, `_`, `-`, `.` ...; no space, `,`, `:`, `;` or `%`), since it
   * is written into `X-Sentry-Rate-Limits`.
   */
  reasonCode?: string;
  /**
   * Watch the quota without enforcing it: it is decided and counted with the others in the
   * same step, but never refuses (and never feeds the rejection cache); what it would have
   * refused is reported in `RateLimit.shadowLimits`. @default false
   */
  shadow?: boolean;
}

/** The project a request belongs to. */
export interface Project {
  /** Project id. */
  id: string | number;
  /** Id of the organization that owns the project. */
  organizationId: string | number;
}

/** A quota *setting* as the seed read it: 0, null or undefined mean "not configured". */
export interface QuotaSetting {
  /** Units per window; 0, null or undefined: not configured (unlimited, still counted). */
  limit?: number | null;
  /** Window length in whole seconds. */
  windowSeconds: number;
}

/**
 * The per-project quota of a setting: id `p`, reason `project_quota`, scoped to the project.
 * A limit of 0, null or undefined means "not configured", as Sentry's `get_project_quota` read
 * it, and becomes `limit: null`: **unlimited**, still counted. (A raw {@link QuotaConfig} with
 * `limit: 0` is the opposite: it refuses everything.)
 *
 * @example
 * ```ts
 * projectQuota({ id: 42, organizationId: 7 }, { limit: 100, windowSeconds: 60 }); // 100 a minute
 * projectQuota({ id: 42, organizationId: 7 }, { limit: 0, windowSeconds: 60 }); // unlimited, counted
 * ```
 */
export function projectQuota(project: Project, setting: QuotaSetting): QuotaConfig {
  return {
    id: 'p',
    scope: 'project',
    scopeId: String(project.id),
    limit: setting.limit ? setting.limit : null,
    windowSeconds: setting.windowSeconds,
    reasonCode: 'project_quota',
  };
}

/**
 * The per-organization quota of a setting: id `o`, reason `org_quota`, scoped to the
 * project's organization. A limit of 0, null or undefined means "not configured" and becomes
 * `limit: null` (unlimited, still counted), as in {@link projectQuota}.
 *
 * @example
 * ```ts
 * organizationQuota({ id: 42, organizationId: 7 }, { limit: 1000, windowSeconds: 60 });
 * ```
 */
export function organizationQuota(project: Project, setting: QuotaSetting): QuotaConfig {
  return {
    id: 'o',
    scope: 'organization',
    scopeId: String(project.organizationId),
    limit: setting.limit ? setting.limit : null,
    windowSeconds: setting.windowSeconds,
    reasonCode: 'org_quota',
  };
}

/** Reason codes and categories already found to be header tokens (a small, bounded set). */
const knownTokens = new Set<string>();

function isKnownToken(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  if (knownTokens.has(value)) return true;
  if (!isHeaderToken(value)) return false;
  if (knownTokens.size < 1000) knownTokens.add(value);
  return true;
}

/**
 * True when `quota` is a valid enforced or counted quota by a quick look that builds no
 * string: the check every decision runs before falling back to {@link validateQuotaConfig},
 * which names what is wrong. False says only "look closer" (it is false for every quota that
 * is invalid, and for `limit: 0` ones): keep it accepting nothing `validateQuotaConfig` refuses.
 *
 * @example
 * ```ts
 * if (!isPlainQuota(quota)) validateQuotaConfig(quota, `getQuotas()[${i}]`);
 * ```
 */
export function isPlainQuota(quota: QuotaConfig): boolean {
  if (quota === null || typeof quota !== 'object') return false;
  const { limit, id, windowSeconds, scope, scopeId, categories } = quota;
  if (limit !== null && !(Number.isSafeInteger(limit) && limit > 0)) return false;
  if (typeof id !== 'string' || id.length === 0) return false;
  if (!Number.isSafeInteger(windowSeconds) || windowSeconds < 1 || windowSeconds > 1e9) {
    return false;
  }
  if (limit !== null || quota.reasonCode !== undefined) {
    if (!isKnownToken(quota.reasonCode)) return false;
  }
  if (scope !== undefined && scope !== 'organization' && scope !== 'project' && scope !== 'key') {
    if (scope !== 'global' || scopeId !== undefined) return false;
  }
  if (scopeId !== undefined && typeof scopeId !== 'string' && typeof scopeId !== 'number') {
    return false;
  }
  if (categories !== undefined) {
    if (!Array.isArray(categories)) return false;
    for (let i = 0; i < categories.length; i++) if (!isKnownToken(categories[i])) return false;
  }
  if (quota.shadow !== undefined && typeof quota.shadow !== 'boolean') return false;
  return true;
}

/**
 * The limit the store step enforces for `quota`: none (-1) for an unlimited or a shadow quota.
 *
 * @example
 * ```ts
 * enforcedLimit({ id: 'p', limit: 10, windowSeconds: 60, shadow: true }); // -1
 * ```
 */
export function enforcedLimit(quota: QuotaConfig): number {
  return quota.limit === null || quota.shadow === true ? -1 : quota.limit;
}

/** Throws {@link InvalidConfiguration}, naming `path`, unless `quota` is a valid {@link QuotaConfig}. */
export function validateQuotaConfig(quota: QuotaConfig, path: string): void {
  if (quota === null || typeof quota !== 'object') {
    throw new InvalidConfiguration(path, quota, 'a QuotaConfig object');
  }
  const { limit } = quota;
  if (limit !== null) integerAtLeast(`${path}.limit`, limit, 0);
  if (limit !== 0) {
    nonEmptyString(`${path}.id`, quota.id);
    integerAtLeast(`${path}.windowSeconds`, quota.windowSeconds, 1);
    positiveSeconds(`${path}.windowSeconds`, quota.windowSeconds);
  }
  if (limit !== null || quota.reasonCode !== undefined)
    headerToken(`${path}.reasonCode`, quota.reasonCode);
  if (quota.scope !== undefined) oneOf(`${path}.scope`, quota.scope, QUOTA_SCOPES);
  if (quota.scope === 'global' && quota.scopeId !== undefined) {
    throw new InvalidConfiguration(
      `${path}.scopeId`,
      quota.scopeId,
      'nothing: a global quota applies to every request of its categories (remove scopeId, or use another scope)',
    );
  }
  if (
    quota.scopeId !== undefined &&
    typeof quota.scopeId !== 'string' &&
    typeof quota.scopeId !== 'number'
  ) {
    throw new InvalidConfiguration(`${path}.scopeId`, quota.scopeId, 'a string');
  }
  const { categories } = quota;
  if (
    categories !== undefined &&
    (!Array.isArray(categories) || !categories.every((c) => typeof c === 'string'))
  ) {
    throw new InvalidConfiguration(`${path}.categories`, categories, 'an array of strings');
  }
  if (categories !== undefined)
    for (let i = 0; i < categories.length; i++)
      headerToken(`${path}.categories[${i}]`, categories[i]);
  if (quota.shadow !== undefined && typeof quota.shadow !== 'boolean') {
    throw new InvalidConfiguration(`${path}.shadow`, quota.shadow, 'a boolean');
  }
}
