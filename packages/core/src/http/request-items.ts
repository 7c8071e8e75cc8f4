import { InvalidConfiguration } from '../errors.js';
import { MAX_CATEGORY_LENGTH } from './header-values.js';
import type { RequestItem } from './http-options.js';
import type { SluiceRequest } from './http-request.js';

/** How a stage reads the items of a request: `items`, else one item of `category` and `quantity`. */
export interface ItemReader {
  readonly items: ((req: SluiceRequest) => RequestItem[]) | undefined;
  readonly category: (req: SluiceRequest) => string | undefined;
  readonly quantity: (req: SluiceRequest) => number;
}

/** The items of a request, or why they are a bad request (a 400: they come from the client). */
export type ReadItems =
  | { readonly ok: true; readonly items: RequestItem[] }
  | { readonly ok: false; readonly message: string };

/**
 * Reads and checks the items of `req`. Categories and quantities are taken from the request
 * by the app's functions, so a bad one is the client's: an empty, over-long or non-string
 * category, or a quantity that is not a whole number of 0 or more, is a 400. `items()` giving
 * something other than an array is the app's mistake: it throws {@link InvalidConfiguration}.
 *
 * @example
 * ```ts
 * const read = readItems(req, { items: undefined, category: (r) => r.query.cat as string, quantity: () => 1 });
 * if (!read.ok) return badRequest(read.message);
 * ```
 */
export function readItems(req: SluiceRequest, reader: ItemReader): ReadItems {
  if (reader.items === undefined) {
    const category = reader.category(req);
    const quantity = reader.quantity(req);
    const problem = checkItem(category, quantity);
    if (problem !== undefined) return { ok: false, message: problem };
    return { ok: true, items: [category === undefined ? { quantity } : { category, quantity }] };
  }
  const items = reader.items(req);
  if (!Array.isArray(items)) {
    throw new InvalidConfiguration('items()', items, 'an array of { category, quantity }');
  }
  for (const item of items) {
    if (item === null || typeof item !== 'object') {
      throw new InvalidConfiguration('items()', item, 'an array of { category, quantity }');
    }
    const problem = checkItem(item.category, item.quantity);
    if (problem !== undefined) return { ok: false, message: problem };
  }
  return { ok: true, items };
}

function checkItem(category: unknown, quantity: unknown): string | undefined {
  if (
    category !== undefined &&
    (typeof category !== 'string' || category.length === 0 || category.length > MAX_CATEGORY_LENGTH)
  ) {
    return 'invalid data category';
  }
  if (typeof quantity !== 'number' || !Number.isSafeInteger(quantity) || quantity < 0) {
    return 'invalid quantity';
  }
  return undefined;
}
