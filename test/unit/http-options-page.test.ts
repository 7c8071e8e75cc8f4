import { readFileSync } from 'node:fs';
import { InvalidConfiguration } from '@sluice/core';
import {
  CARDINALITY_OPTION_NAMES,
  CONCURRENCY_OPTION_NAMES,
  HttpLimiter,
  LOCKOUT_OPTION_NAMES,
  SLUICE_OPTION_NAMES,
  WINDOWS_OPTION_NAMES,
} from '@sluice/core/adapter';
import { describe, expect, it } from 'vitest';

// docs/http-options.md is the reference for every HTTP option: each option the code accepts
// (the lists its validation checks against) has a heading there, and the page names none the
// code would refuse.

const page = readFileSync(new URL('../../docs/http-options.md', import.meta.url), 'utf8');
/** `### \`name\`` headings, and `- \`name\` —` entries of the nested options. */
const headings = [...page.matchAll(/^### `(\w+)`$/gm)].map((m) => m[1]!);
const entries = [...page.matchAll(/^- `(\w+)` —/gm)].map((m) => m[1]!);
/** Options of the Fastify plugin alone (sluicePlugin's `hook` and `notFound`). */
const FASTIFY_ONLY = ['hook', 'notFound'];

describe('docs/http-options.md', () => {
  it('has a heading for every option sluice(), sluicePlugin and route() accept, and none other', () => {
    expect([...headings].sort()).toEqual([...SLUICE_OPTION_NAMES, ...FASTIFY_ONLY].sort());
  });

  it('lists every option of windows, concurrency, lockout and cardinality', () => {
    expect([...entries].sort()).toEqual(
      [
        ...WINDOWS_OPTION_NAMES,
        ...CONCURRENCY_OPTION_NAMES,
        ...LOCKOUT_OPTION_NAMES,
        ...CARDINALITY_OPTION_NAMES,
      ].sort(),
    );
  });

  it('the lists are what validation checks: a name outside them throws, naming it', () => {
    const identify = () => null;
    expect(() => new HttpLimiter({ identify, ...{ quotaz: [] } })).toThrow(InvalidConfiguration);
    expect(() => new HttpLimiter({ identify, ...{ quotaz: [] } })).toThrow(/quotaz/);
    expect(
      () =>
        new HttpLimiter({ identify, windows: { prefix: () => 'p', quotas: [], ...{ limit: 1 } } }),
    ).toThrow(/windows\.limit/);
    expect(() => new HttpLimiter({ identify, concurrency: { limit: 1, ...{ wait: 1 } } })).toThrow(
      /concurrency\.wait/,
    );
    // And every listed top-level name is accepted by name (undefined is "not given").
    for (const name of SLUICE_OPTION_NAMES) {
      expect(() => new HttpLimiter({ [name]: undefined, identify })).not.toThrow();
    }
  });
});
