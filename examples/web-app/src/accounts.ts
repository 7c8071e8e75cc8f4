import type { Identity, Project, SluiceRequest } from '@sluice/core';

/**
 * The example's customers: each API key belongs to one account (sluice's `project`) of one
 * team (its `organizationId`). A real app looks the key up in its database.
 */
export const API_KEYS: ReadonlyMap<string, Project> = new Map([
  ['key-alice', { id: 'alice', organizationId: 'acme' }],
  ['key-bob', { id: 'bob', organizationId: 'acme' }],
  ['key-carol', { id: 'carol', organizationId: 'globex' }],
]);

/**
 * sluice's `identify` for this API: the `X-Api-Key` header names the account; the key itself
 * is the id of `key`-scoped quotas. An unknown or missing key is `null`, which sluice answers
 * with a 401 before anything is counted.
 *
 * @example
 * ```ts
 * sluice({ identify: identifyByApiKey, quotas: APP_QUOTAS });
 * ```
 */
export function identifyByApiKey(req: SluiceRequest): Identity | null {
  const key = req.headers['x-api-key'];
  if (typeof key !== 'string') return null;
  const project = API_KEYS.get(key);
  return project === undefined ? null : { project, key };
}
