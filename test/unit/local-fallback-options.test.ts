// `onStoreError: 'local'` and `localShare` are checked when the limiter (or a route) is built:
// a share outside (0, 1], a missing one, one given with another policy, or an unknown policy is
// an InvalidConfiguration naming the option.
import { InvalidConfiguration, MemoryStore, type SluiceOptions } from '@sluice/core';
import { HttpLimiter } from '@sluice/core/adapter';
import { describe, expect, it } from 'vitest';

const base: SluiceOptions = {
  store: new MemoryStore(),
  identify: () => ({ project: { id: 1, organizationId: 1 } }),
};

const thrown = (build: () => unknown): unknown => {
  try {
    build();
  } catch (error) {
    return error;
  }
  return undefined;
};

describe("onStoreError: 'local' options", () => {
  const bad: Array<[string, Partial<SluiceOptions>, string]> = [
    ['an unknown policy', { onStoreError: 'fallback' as never }, 'onStoreError'],
    ["'local' without localShare", { onStoreError: 'local' }, 'localShare'],
    ['a share of 0', { onStoreError: 'local', localShare: 0 }, 'localShare'],
    ['a negative share', { onStoreError: 'local', localShare: -0.5 }, 'localShare'],
    ['a share above 1', { onStoreError: 'local', localShare: 1.5 }, 'localShare'],
    ['a share of NaN', { onStoreError: 'local', localShare: Number.NaN }, 'localShare'],
    ['a share as a string', { onStoreError: 'local', localShare: '0.5' as never }, 'localShare'],
    ["localShare with 'allow'", { onStoreError: 'allow', localShare: 0.5 }, 'localShare'],
    ['localShare with the default policy', { localShare: 0.5 }, 'localShare'],
  ];
  it.each(bad)('%s throws naming the option', (_name, options, option) => {
    const error = thrown(() => new HttpLimiter({ ...base, ...options }));
    expect(error).toBeInstanceOf(InvalidConfiguration);
    expect((error as InvalidConfiguration).option).toBe(option);
    expect((error as InvalidConfiguration).message).toContain(`\`${option}\``);
  });

  it('accepts a share in (0, 1], and a route inherits or overrides it', () => {
    const limiter = new HttpLimiter({ ...base, onStoreError: 'local', localShare: 1 });
    expect(() => limiter.route({ localShare: 0.25 })).not.toThrow();
    expect(
      () => new HttpLimiter({ ...base, onStoreError: 'local', localShare: 1e-9 }),
    ).not.toThrow();
    // A route that leaves 'local' must drop the inherited share: keeping it is an error.
    const error = thrown(() => limiter.route({ onStoreError: 'deny' }));
    expect((error as InvalidConfiguration).option).toBe('localShare');
    expect(() => limiter.route({ onStoreError: 'deny', localShare: undefined })).not.toThrow();
  });
});
