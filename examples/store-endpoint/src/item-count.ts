import { EnvelopeError, type EnvelopeItem } from './envelope.js';

/**
 * Item types that never hold more than one item, as Relay has them: events, attachments and
 * replays are one item each. Every other type, unknown ones included, may be a container whose
 * `item_count` header says how many items it holds (a span container sent by `@sentry/browser`
 * holds every span of a batch).
 */
const SINGLE_ITEM_TYPES = new Set([
  'event',
  'transaction',
  'security',
  'raw_security',
  'attachment',
  'form_data',
  'nel',
  'unreal_report',
  'user_report',
  'feedback',
  'replay_event',
  'replay_recording',
  'replay_video',
  'integration',
]);

/** Content types of the JSON container format: `{ "items": [...] }` with `item_count` items. */
const JSON_CONTAINER = /^application\/vnd\.sentry\.items\.[a-z0-9.-]+\+json$/i;

/** Largest `item_count` read (Relay reads it as a 32-bit count). */
const MAX_ITEM_COUNT = 2 ** 32 - 1;

/**
 * How many items an envelope item holds, as Relay counts them for rate limits and outcomes:
 * `item_count` for a container type (1 when absent), 1 for every other type. A JSON container
 * (`content_type: application/vnd.sentry.items.span.v2+json` and the like) must say
 * `item_count` and hold exactly that many items, so a client cannot send 100 spans for the
 * price of 1; anything else is an {@link EnvelopeError} (answered with 400).
 *
 * @example
 * itemCountOf({ type: 'span', header: { type: 'span', item_count: 2,
 *   content_type: 'application/vnd.sentry.items.span.v2+json' },
 *   payload: Buffer.from('{"items":[{},{}]}') }, 0); // 2
 */
export function itemCountOf(item: EnvelopeItem, index: number): number {
  if (SINGLE_ITEM_TYPES.has(item.type)) return 1;
  const declared = item.header.item_count;
  const contentType = item.header.content_type;
  const isJsonContainer = typeof contentType === 'string' && JSON_CONTAINER.test(contentType);
  if (declared === undefined || declared === null) {
    if (isJsonContainer) throw new EnvelopeError(`item ${index} is a container without item_count`);
    return 1;
  }
  if (
    typeof declared !== 'number' ||
    !Number.isSafeInteger(declared) ||
    declared < 0 ||
    declared > MAX_ITEM_COUNT
  ) {
    throw new EnvelopeError(`item ${index} has an invalid item_count`);
  }
  if (isJsonContainer) {
    const held = containedItems(item.payload);
    if (held !== declared) {
      throw new EnvelopeError(
        `item ${index} says item_count ${declared} but holds ${held ?? 'no items array'}`,
      );
    }
  }
  return declared;
}

function containedItems(payload: Buffer): number | undefined {
  try {
    const container: unknown = JSON.parse(payload.toString('utf8'));
    const items = (container as { items?: unknown } | null)?.items;
    return Array.isArray(items) ? items.length : undefined;
  } catch {
    return undefined;
  }
}
