import { idOfKeyPart, keyPart } from '../store/key-parts.js';

/**
 * The scope a counter counts for, as its key spells it (`o`, `p`, `k`), or `global` for a
 * global quota's counter (`<prefix>:global:{<quota id>}:<window s>:<slot>`, no organization).
 */
export type CounterScope = 'organization' | 'project' | 'key' | 'global';

const SCOPES: Record<string, CounterScope> = { o: 'organization', p: 'project', k: 'key' };

/**
 * One Redis key of a fixed-window quota counter, read back from its name:
 * `<prefix>:q:{<organization>}:<quota id>:<scope letter>:<scope value>:<window s>:<slot>`, with
 * `:r` for the refunded part (see `quotas/counter-operations.ts`).
 */
export interface CounterName {
  /** The key as Redis holds it. */
  readonly key: string;
  readonly organization: string;
  readonly quota: string;
  readonly scope: CounterScope;
  /** The organization, project or key id the counter counts for. */
  readonly value: string;
  readonly windowSeconds: number;
  /** The window's index: it starts at `slot * windowSeconds + shift`. */
  readonly slot: number;
  /** True for the `:r` key, which holds what was refunded. */
  readonly refunded: boolean;
}

/**
 * The counters one CLI call looks for: the project's own (or a key's), and the organization's
 * shared ones when `includeOrganization`.
 */
export interface CounterTarget {
  readonly prefix: string;
  readonly project: string;
  readonly organization: string | undefined;
  readonly key: string | undefined;
  readonly includeOrganization: boolean;
  /** Also the global quotas' counters, which count for every project. */
  readonly includeGlobal: boolean;
}

/**
 * SCAN `MATCH` patterns that cover every counter of `target` (a superset: {@link parseCounterName}
 * and {@link isTargetCounter} decide). `keyPart` output holds no glob character (`*?[]\`).
 *
 * @example
 * ```ts
 * counterPatterns({ prefix: 'sluice', project: '42', organization: '7', key: undefined, includeOrganization: false, includeGlobal: false });
 * // ['sluice:q:{7}:*:p:42:*']
 * ```
 */
export function counterPatterns(target: CounterTarget): string[] {
  const tag = target.organization === undefined ? '{*}' : `{${tagPart(target.organization)}}`;
  const base = `${target.prefix}:q:${tag}:*:`;
  const own =
    target.key === undefined
      ? `${base}p:${keyPart(target.project)}:*`
      : `${base}k:${keyPart(target.key)}:*`;
  const patterns = [own];
  if (target.includeOrganization && target.organization !== undefined) {
    patterns.push(`${base}o:${keyPart(target.organization)}:*`);
  }
  if (target.includeGlobal) patterns.push(`${target.prefix}:global:*`);
  return patterns;
}

/**
 * The counter a key names, or undefined for a key of another shape (a sliding window's, a
 * lease set, another application's).
 *
 * @example
 * ```ts
 * parseCounterName('sluice', 'sluice:q:{7}:p:p:42:60:29453');
 * // { organization: '7', quota: 'p', scope: 'project', value: '42', windowSeconds: 60, slot: 29453, refunded: false, ... }
 * ```
 */
export function parseCounterName(prefix: string, key: string): CounterName | undefined {
  if (key.startsWith(`${prefix}:global:`)) return parseGlobalName(prefix, key);
  const head = `${prefix}:q:`;
  if (!key.startsWith(head)) return undefined;
  const parts = key.slice(head.length).split(':');
  if (parts.length !== 6 && !(parts.length === 7 && parts[6] === 'r')) return undefined;
  const [tag, quota, letter, value, window, slot] = parts as [string, ...string[]];
  const scope = SCOPES[letter!];
  if (!/^\{[^{}]+\}$/.test(tag) || scope === undefined) return undefined;
  if (!/^[1-9]\d*$/.test(window!) || !/^-?\d+$/.test(slot!)) return undefined;
  const organization = tag.slice(1, -1);
  return {
    key,
    organization: organization === '%' ? '' : idOfKeyPart(organization),
    quota: idOfKeyPart(quota!),
    scope,
    value: idOfKeyPart(value!),
    windowSeconds: Number(window),
    slot: Number(slot),
    refunded: parts.length === 7,
  };
}

/** A global quota's counter key read back, or undefined for a key of another shape. */
function parseGlobalName(prefix: string, key: string): CounterName | undefined {
  const parts = key.slice(`${prefix}:global:`.length).split(':');
  if (parts.length !== 3 && !(parts.length === 4 && parts[3] === 'r')) return undefined;
  const [tag, window, slot] = parts as [string, string, string];
  if (!/^\{[^{}]+\}$/.test(tag) || !/^[1-9]\d*$/.test(window) || !/^-?\d+$/.test(slot)) {
    return undefined;
  }
  const quota = tag.slice(1, -1);
  return {
    key,
    organization: '',
    quota: quota === '%' ? '' : idOfKeyPart(quota),
    scope: 'global',
    value: '',
    windowSeconds: Number(window),
    slot: Number(slot),
    refunded: parts.length === 4,
  };
}

/**
 * True when `name` is one of the counters `target` asks for (the patterns only narrow the scan).
 *
 * @example
 * ```ts
 * isTargetCounter(name, target); // false for project 420 when the target is project 42
 * ```
 */
export function isTargetCounter(name: CounterName, target: CounterTarget): boolean {
  if (name.scope === 'global') return target.includeGlobal;
  if (target.organization !== undefined && name.organization !== target.organization) return false;
  if (name.scope === 'organization') {
    return target.includeOrganization && name.value === target.organization;
  }
  if (target.key !== undefined) return name.scope === 'key' && name.value === target.key;
  return name.scope === 'project' && name.value === target.project;
}

/** The escaped id inside a hash tag: `%` for the empty id, as `hashTag` writes it. */
function tagPart(id: string): string {
  const part = keyPart(id);
  return part === '' ? '%' : part;
}
