import { readFileSync } from 'node:fs';
import {
  InvalidConfiguration,
  type Project,
  type QuotaConfig,
  validateQuotaConfig,
} from '@sluice/core';

/** One project of the configuration file. */
export interface ProjectConfig extends Project {
  publicKeys: string[];
  quotas: QuotaConfig[];
}

/** The configuration file: `{ "projects": [...] }`. */
export interface EndpointConfig {
  projects: ProjectConfig[];
}

/** The configuration with lookups built. */
export interface LoadedConfig extends EndpointConfig {
  /** The project a public key belongs to. */
  projectOfKey(publicKey: string): ProjectConfig | undefined;
}

/** Reads and validates the JSON file at `path`; errors name the path of the bad field. */
export function loadConfig(path: string): LoadedConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new InvalidConfiguration(
      'SLUICE_CONFIG',
      path,
      `a readable JSON file (${(error as Error).message})`,
    );
  }
  return parseConfig(raw);
}

/** Validates a parsed configuration; a quota without `scope` is organization-wide and `scopeId` defaults by scope. */
export function parseConfig(raw: unknown): LoadedConfig {
  if (!isObject(raw) || !Array.isArray(raw.projects)) {
    throw new InvalidConfiguration(
      'projects',
      isObject(raw) ? raw.projects : raw,
      'an array of projects',
    );
  }
  const byKey = new Map<string, ProjectConfig>();
  const projects = raw.projects.map((entry: unknown, i: number): ProjectConfig => {
    const path = `projects[${i}]`;
    if (!isObject(entry)) throw new InvalidConfiguration(path, entry, 'a project object');
    const id = idField(`${path}.id`, entry.id);
    const organizationId = idField(`${path}.organizationId`, entry.organizationId);
    const { publicKeys, quotas } = entry;
    if (!Array.isArray(publicKeys) || publicKeys.length === 0) {
      throw new InvalidConfiguration(`${path}.publicKeys`, publicKeys, 'a non-empty array of keys');
    }
    publicKeys.forEach((key: unknown, k: number) => {
      if (typeof key !== 'string' || !/^[A-Za-z0-9_-]{1,128}$/.test(key)) {
        throw new InvalidConfiguration(
          `${path}.publicKeys[${k}]`,
          key,
          'a public key of letters and digits',
        );
      }
      if (byKey.has(key))
        throw new InvalidConfiguration(
          `${path}.publicKeys[${k}]`,
          key,
          'a key used by one project only',
        );
    });
    if (quotas !== undefined && !Array.isArray(quotas)) {
      throw new InvalidConfiguration(`${path}.quotas`, quotas, 'an array of quotas');
    }
    const withScopes = ((quotas ?? []) as QuotaConfig[]).map((quota, q) => {
      validateQuotaConfig(quota, `${path}.quotas[${q}]`);
      const scope = quota.scope ?? 'organization';
      const scopeId =
        quota.scopeId ??
        (scope === 'project'
          ? String(id)
          : scope === 'organization'
            ? String(organizationId)
            : undefined);
      return scopeId === undefined ? { ...quota, scope } : { ...quota, scope, scopeId };
    });
    const project: ProjectConfig = {
      id,
      organizationId,
      publicKeys: publicKeys as string[],
      quotas: withScopes,
    };
    for (const key of project.publicKeys) byKey.set(key, project);
    return project;
  });
  return { projects, projectOfKey: (publicKey) => byKey.get(publicKey) };
}

function idField(path: string, value: unknown): number | string {
  if (
    (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) ||
    (typeof value === 'string' && value !== '')
  ) {
    return value;
  }
  throw new InvalidConfiguration(path, value, 'a project or organization id');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
