import { gunzipSync, inflateSync } from 'node:zlib';
import type { RequestItem } from '@sluice/core';
import { categoryOf, quantityOf } from './categories.js';
import { EnvelopeError, type EnvelopeItem, parseEnvelope } from './envelope.js';
import { itemCountOf } from './item-count.js';

/** Bounds on what one request may carry. */
export const BODY_LIMITS = {
  /** Largest body as sent (compressed or not), in bytes. */
  maxBodyBytes: 1024 * 1024,
  /** Largest body after decompression, in bytes. */
  maxDecodedBytes: 20 * 1024 * 1024,
} as const;

/** An item of an ingest request with the category it counts against. */
export interface IngestItem {
  readonly item: EnvelopeItem;
  /** Undefined for internal items (client reports), which are never refused. */
  readonly category: string | undefined;
  /** How many items of its category it holds: `item_count` for a container, else 1. */
  readonly count: number;
  /** Units it counts against its category's quota: bytes for an attachment, else `count`. */
  readonly quantity: number;
}

/** A decoded store or envelope request: what the sluice adapter and the handler work on. */
export interface IngestBody {
  readonly kind: 'store' | 'envelope';
  readonly eventId: string | undefined;
  readonly items: IngestItem[];
}

/** A request that cannot be ingested: its status and reason. */
export class IngestError extends Error {
  constructor(
    readonly status: 400 | 413 | 415,
    message: string,
  ) {
    super(message);
    this.name = 'IngestError';
  }
}

/** Undoes `Content-Encoding` (gzip, deflate or none), within {@link BODY_LIMITS}. */
export function decodeBody(body: Buffer, encoding: string | undefined): Buffer {
  if (body.length > BODY_LIMITS.maxBodyBytes) throw new IngestError(413, 'request body too large');
  const name = (encoding ?? 'identity').trim().toLowerCase();
  const options = { maxOutputLength: BODY_LIMITS.maxDecodedBytes };
  try {
    if (name === 'gzip' || name === 'x-gzip') return gunzipSync(body, options);
    if (name === 'deflate') return inflateSync(body, options);
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE')
      throw new IngestError(413, 'decoded body too large');
    throw new IngestError(400, `invalid ${name} body`);
  }
  if (name !== 'identity' && name !== '')
    throw new IngestError(415, `unsupported content encoding: ${name}`);
  return body;
}

/** Reads a decoded body as a store event (one JSON event) or an envelope. */
export function readIngest(kind: 'store' | 'envelope', body: Buffer): IngestBody {
  if (kind === 'store') return readStore(body);
  try {
    const envelope = parseEnvelope(body);
    const eventId =
      typeof envelope.header.event_id === 'string' ? envelope.header.event_id : undefined;
    return {
      kind,
      eventId,
      items: envelope.items.map((item, index) => {
        const count = itemCountOf(item, index);
        return { item, category: categoryOf(item), count, quantity: quantityOf(item, count) };
      }),
    };
  } catch (error) {
    if (error instanceof EnvelopeError)
      throw new IngestError(400, `invalid envelope: ${error.message}`);
    throw error;
  }
}

/** The items sluice decides, one per category, summed. */
export function itemsToDecide(body: IngestBody | undefined): RequestItem[] {
  if (body === undefined) return [];
  const byCategory = new Map<string, number>();
  for (const { category, quantity } of body.items) {
    if (category !== undefined)
      byCategory.set(category, (byCategory.get(category) ?? 0) + quantity);
  }
  return [...byCategory].map(([category, quantity]) => ({ category, quantity }));
}

function readStore(body: Buffer): IngestBody {
  let event: unknown;
  try {
    event = JSON.parse(body.toString('utf8'));
  } catch {
    throw new IngestError(400, 'invalid event: not JSON');
  }
  if (event === null || typeof event !== 'object' || Array.isArray(event)) {
    throw new IngestError(400, 'invalid event: not a JSON object');
  }
  const record = event as Record<string, unknown>;
  const type = record.type === 'transaction' ? 'transaction' : 'event';
  const item: EnvelopeItem = { header: { type }, type, payload: body };
  return {
    kind: 'store',
    eventId: typeof record.event_id === 'string' ? record.event_id : undefined,
    items: [{ item, category: categoryOf(item), count: 1, quantity: 1 }],
  };
}
