import type { Project } from '../quotas/quota-config.js';
import { type PlannedCardinality, requestValues } from './cardinality-stage.js';
import type { RequestItem } from './http-options.js';
import type { SluiceRequest } from './http-request.js';
import { type ItemReader, readItems } from './request-items.js';
import { requestKey } from './request-key.js';
import type { StageEngines } from './stage-engines.js';

/**
 * What a request asks of a stage, read before anything is counted.
 *
 * @example
 * ```ts
 * const plan = planRequest(req, project, engines, reader);
 * if (plan.ok) for (const item of plan.items) console.log(item.category, item.quantity);
 * ```
 */
export interface Planned {
  readonly ok: true;
  readonly items: RequestItem[];
  /** The window prefix, escaped, when the stage has windows. */
  readonly prefix: string | undefined;
  /** The concurrency key, escaped, when the stage has a concurrency limit. */
  readonly slotKey: string | undefined;
  /** The lockout key, escaped, when the stage has a lockout. */
  readonly lockoutKey: string | undefined;
  /** The cardinality scope (escaped) and values, when the stage has a cardinality limit. */
  readonly cardinality: PlannedCardinality | undefined;
}

/**
 * A {@link Planned} request, or why it is a bad one (a 400).
 *
 * @example
 * ```ts
 * const plan: Plan = { ok: false, message: 'rate limit key is too long' };
 * ```
 */
export type Plan = Planned | { readonly ok: false; readonly message: string };

/**
 * What `req` asks of a stage with `engines`: its items, the window prefix, the concurrency
 * and lockout keys and the cardinality scope and values. Values the client controls that cannot be used are a 400 (`ok: false`); values the
 * app's functions get wrong throw {@link InvalidConfiguration}.
 *
 * @example
 * ```ts
 * const plan = planRequest(req, project, engines, reader);
 * if (!plan.ok) return errorAnswer(400, plan.message, headers);
 * ```
 */
export function planRequest(
  req: SluiceRequest,
  project: Project,
  engines: StageEngines,
  reader: ItemReader,
): Plan {
  const read = readItems(req, reader);
  if (!read.ok) return read;
  let prefix: string | undefined;
  if (engines.windows !== undefined) {
    prefix = requestKey('windows.prefix()', engines.windows.prefix(req, project));
    if (prefix === undefined) return { ok: false, message: 'rate limit key is too long' };
  }
  let slotKey: string | undefined;
  if (engines.concurrency !== undefined) {
    slotKey = requestKey('concurrency.key()', engines.concurrency.key(req, project));
    if (slotKey === undefined) return { ok: false, message: 'rate limit key is too long' };
  }
  let lockoutKey: string | undefined;
  if (engines.lockout !== undefined) {
    lockoutKey = requestKey('lockout.key()', engines.lockout.key(req, project));
    if (lockoutKey === undefined) return { ok: false, message: 'rate limit key is too long' };
  }
  let cardinality: PlannedCardinality | undefined;
  if (engines.cardinality !== undefined) {
    const scope = requestKey('cardinality.scope()', engines.cardinality.scope(req, project));
    if (scope === undefined) return { ok: false, message: 'rate limit key is too long' };
    const values = requestValues(engines.cardinality.values(req, project));
    if (values === undefined) return { ok: false, message: 'too many cardinality values' };
    cardinality = { scope, values };
  }
  return { ok: true, items: read.items, prefix, slotKey, lockoutKey, cardinality };
}
