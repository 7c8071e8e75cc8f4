// The example endpoint's item-type lookup is a Map: an item type named after an
// Object.prototype property gets the `default` category, a string, like any unknown type.

import { categoryOf } from '@sluice/example-store-endpoint/categories';
import { describe, expect, it } from 'vitest';

describe('categoryOf', () => {
  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'])(
    '%s is an unknown item type: default',
    (type) => {
      expect(categoryOf({ type, payload: Buffer.alloc(0) } as never)).toBe('default');
    },
  );

  it('known item types keep their category', () => {
    expect(categoryOf({ type: 'event', payload: Buffer.alloc(0) } as never)).toBe('error');
    expect(
      categoryOf({ type: 'client_report', payload: Buffer.alloc(0) } as never),
    ).toBeUndefined();
  });
});
