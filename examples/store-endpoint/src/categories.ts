import type { EnvelopeItem } from './envelope.js';

/** Data category of each envelope item type, as Relay counts them. */
const CATEGORY_OF_ITEM = new Map<string, string>(
  Object.entries({
    event: 'error',
    transaction: 'transaction',
    security: 'security',
    attachment: 'attachment',
    session: 'session',
    sessions: 'session',
    profile: 'profile',
    profile_chunk: 'profile_chunk',
    replay_event: 'replay',
    replay_recording: 'replay',
    replay_video: 'replay',
    span: 'span',
    check_in: 'monitor',
    feedback: 'feedback',
    user_report: 'user_report',
    log: 'log_item',
    trace_metric: 'trace_metric',
    statsd: 'metric_bucket',
    metric_buckets: 'metric_bucket',
  }),
);

/** Item types that are the SDK's own bookkeeping: never counted, never refused. */
const INTERNAL_ITEMS = new Set(['client_report']);

/** The data category of an item, or undefined for internal items that are not rate limited. */
export function categoryOf(item: EnvelopeItem): string | undefined {
  if (INTERNAL_ITEMS.has(item.type)) return undefined;
  // A Map, not an object lookup: `constructor` or `__proto__` is an unknown type, so 'default'.
  return CATEGORY_OF_ITEM.get(item.type) ?? 'default';
}

/**
 * Units an item counts against its category's quota, as Relay counts them: bytes for an
 * attachment, else `count`, the number of items it holds (see `itemCountOf`).
 */
export function quantityOf(item: EnvelopeItem, count: number): number {
  return item.type === 'attachment' ? item.payload.length : count;
}
