/**
 * Sentry envelopes: a JSON header line, then items, each a JSON header line and a payload that
 * is either `length` bytes long (then an optional newline) or runs to the next newline.
 * https://develop.sentry.dev/sdk/envelopes/
 */

/** One envelope item. */
export interface EnvelopeItem {
  /** The item header, e.g. `{ "type": "event", "length": 123 }`. */
  readonly header: Record<string, unknown>;
  /** The item type (`event`, `transaction`, `attachment`, `session`, ...). */
  readonly type: string;
  readonly payload: Buffer;
}

/** A parsed envelope. */
export interface Envelope {
  readonly header: Record<string, unknown>;
  readonly items: EnvelopeItem[];
}

/** Why a body is not an envelope; answered with 400. */
export class EnvelopeError extends Error {
  override readonly name = 'EnvelopeError';
}

/** Bounds that keep a hostile envelope cheap. */
export const ENVELOPE_LIMITS = { maxHeaderBytes: 64 * 1024, maxItems: 1000 } as const;

const NEWLINE = 0x0a;

/** Parses `body` as an envelope or throws {@link EnvelopeError} saying what is wrong. */
export function parseEnvelope(body: Buffer): Envelope {
  let offset = 0;
  const readLine = (what: string): Buffer => {
    const end = body.indexOf(NEWLINE, offset);
    const stop = end === -1 ? body.length : end;
    if (stop - offset > ENVELOPE_LIMITS.maxHeaderBytes)
      throw new EnvelopeError(`${what} is too large`);
    const line = body.subarray(offset, stop);
    offset = end === -1 ? body.length : end + 1;
    return line;
  };
  const header = parseHeader(readLine('envelope header'), 'envelope header');
  const items: EnvelopeItem[] = [];
  while (offset < body.length) {
    const line = readLine('item header');
    if (line.length === 0) continue; // a trailing or blank line between items
    if (items.length >= ENVELOPE_LIMITS.maxItems) throw new EnvelopeError('too many items');
    const itemHeader = parseHeader(line, `item ${items.length} header`);
    const type = itemHeader.type;
    if (typeof type !== 'string' || type === '')
      throw new EnvelopeError(`item ${items.length} has no type`);
    let payload: Buffer;
    const length = itemHeader.length;
    if (length !== undefined && length !== null) {
      if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0) {
        throw new EnvelopeError(`item ${items.length} has an invalid length`);
      }
      if (offset + length > body.length)
        throw new EnvelopeError(`item ${items.length} is truncated`);
      payload = body.subarray(offset, offset + length);
      offset += length;
      if (offset < body.length) {
        if (body[offset] !== NEWLINE)
          throw new EnvelopeError(`item ${items.length} is longer than its length`);
        offset++;
      }
    } else {
      payload = readLine(`item ${items.length} payload`);
    }
    items.push({ header: itemHeader, type, payload });
  }
  return { header, items };
}

function parseHeader(line: Buffer, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(line.toString('utf8'));
  } catch {
    throw new EnvelopeError(`${what} is not JSON`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new EnvelopeError(`${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}
