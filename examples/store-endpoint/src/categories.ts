import type { EnvelopeItem } from './envelope.js';

/**
 * Data category of each envelope item type, as Relay counts them. A Map, not an object: an item
 * type such as `constructor` or `__proto__` must not find a prototype's property.
 */
const CATEGORY_OF_ITEM: ReadonlyMap<string, string> = new Map(
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
    statsd: 'metric_bucket',
    metric_buckets: 'metric_bucket',
  }),
);

/** Item types that are the SDK's own bookkeeping: never counted, never refused. */
const INTERNAL_ITEMS = new Set(['client_report']);

/** The data category of an item, or undefined for internal items that are not rate limited. */
export function categoryOf(item: EnvelopeItem): string | undefined {
  if (INTERNAL_ITEMS.has(item.type)) return undefined;
  return CATEGORY_OF_ITEM.get(item.type) ?? 'default';
}

/** Units an item counts: bytes for attachments (as Relay), else 1. */
export function quantityOf(item: EnvelopeItem): number {
  return item.type === 'attachment' ? item.payload.length : 1;
}
