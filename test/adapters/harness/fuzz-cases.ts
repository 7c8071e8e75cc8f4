import { createHash } from 'node:crypto';
import type { MemoryStore, SluiceOptions } from '@sluice/core';
import fc from 'fast-check';
import { frozenStore, PROJECTS, resolveProject } from './projects.js';
import type { HandlerReply, TestApp, TestRequest } from './types.js';

const KEYS = Object.values(PROJECTS).map((project) => project.key);
/** Under Node's 16 KiB header limit together, each above core's 4 KiB auth header limit. */
const MAX_HEADER = 7000;
const MAX_QUERY = 2000;

/** A string as it travels in a header: UTF-8 bytes read as Latin-1, without control characters. */
const onTheWire = (text: string) =>
  Buffer.from(text, 'utf8')
    .toString('latin1')
    .replace(/[^\t\x20-\x7e\x80-\xff]/g, '');

const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom(
    ...KEYS,
    '',
    '=',
    ',',
    ' ',
    'Sentry',
    'sentry_key=',
    '"',
    '7',
    KEYS[0]!.toUpperCase(),
  ),
  fc.nat(6000).map((n) => 'k'.repeat(n)),
);
const fieldName = fc.oneof(
  fc.constantFrom(
    'sentry_key',
    'sentry_version',
    'sentry_client',
    'sentry_secret',
    'key',
    ' sentry_key',
  ),
  fc.string({ maxLength: 12 }),
);
const field = fc.oneof(
  fc.tuple(fieldName, text).map(([name, value]) => `${name}=${value}`),
  fc.constantFrom(...KEYS).map((key) => `sentry_key=${key}`),
  text,
);
const authHeader = fc
  .tuple(
    fc.constantFrom('Sentry ', 'sentry ', 'SENTRY\t', 'Sentry', 'Bearer ', '', ' Sentry  '),
    fc.array(field, { maxLength: 40 }),
    fc.constantFrom(', ', ',', ' ,  ', ';'),
  )
  .map(([scheme, fields, separator]) =>
    onTheWire(scheme + fields.join(separator)).slice(0, MAX_HEADER),
  );
/** Well-formed auth with a known key, sometimes with noise fields: the requests that get in. */
const validAuth = fc
  .tuple(
    fc.constantFrom(...KEYS),
    fc.array(fc.tuple(fc.constantFrom('sentry_client', 'sentry_timestamp'), text), {
      maxLength: 3,
    }),
  )
  .map(([key, extra]) =>
    onTheWire(
      [
        `Sentry sentry_key=${key}`,
        'sentry_version=7',
        ...extra.map(([n, v]) => `${n}=${v.replace(/,/g, '')}`),
      ].join(', '),
    ).slice(0, MAX_HEADER),
  );
const headerValue = fc.oneof(
  { weight: 3, arbitrary: validAuth },
  { weight: 4, arbitrary: authHeader },
  { weight: 1, arbitrary: fc.array(authHeader, { minLength: 2, maxLength: 3 }) },
);

const queryValue = fc.oneof(
  fc.constantFrom(...KEYS, '', '7', '%', '%E0%A4%A', '%ZZ', '%00', '+'),
  text.map((value) => encodeURIComponent(value)),
  fc
    .string({ maxLength: 20 })
    .map((value) => value.replace(/[^\x21-\x7e]/g, '').replace(/[#]/g, '')),
);
const queryPair = fc.tuple(
  fc.oneof(
    fc.constantFrom('sentry_key', 'sentry_version', 'sentry_client', 'sentry_key[]', 'x'),
    queryValue,
  ),
  queryValue,
);
const query = fc
  .array(
    fc.oneof(
      queryPair.map(([name, value]) => `${name}=${value}`),
      queryValue,
    ),
    { maxLength: 6 },
  )
  .map((pairs) => pairs.join('&').slice(0, MAX_QUERY));

const pathId = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('1', '2', '3') },
  fc.constantFrom(
    '1',
    '2',
    '3',
    '0',
    '-1',
    'abc',
    '',
    '%ZZ',
    '%31',
    '1.5',
    '99999999999999999999',
    '%F0%9F%92%A5',
    '..',
  ),
  fc.nat().map(String),
  fc.string({ unit: 'grapheme', maxLength: 12 }).map((value) => encodeURIComponent(value)),
);

const noiseQuery = fc
  .array(fc.tuple(fc.constantFrom('x', 'sentry_version', 'sentry_client', 'q'), queryValue), {
    maxLength: 4,
  })
  .map((pairs) => pairs.map(([name, value]) => `${name}=${value}`));

/** Authentication that should get in: a project's own key in one place, with noise around it. */
const coherentRequest = fc
  .record({
    project: fc.constantFrom(...Object.values(PROJECTS)),
    inQuery: fc.boolean(),
    noise: noiseQuery,
    extra: fc.array(fc.tuple(fc.constantFrom('sentry_client', 'sentry_timestamp'), text), {
      maxLength: 3,
    }),
    method: fc.constantFrom('GET' as const, 'POST' as const),
  })
  .map(({ project, inQuery, noise, extra, method }): TestRequest => {
    const fields = extra.map(([name, value]) => `${name}=${value.replace(/,/g, '')}`);
    const header = onTheWire([`Sentry sentry_key=${project.key}`, ...fields].join(', ')).slice(
      0,
      MAX_HEADER,
    );
    const search = inQuery
      ? [`sentry_key=${project.key}`, ...noise]
      : noise.filter((p) => !p.startsWith('sentry_key'));
    return {
      method,
      path: `/api/${project.id}/store/${search.length === 0 ? '' : `?${search.join('&').slice(0, MAX_QUERY)}`}`,
      headers: inQuery ? {} : { 'x-sentry-auth': header },
    };
  });

/** Requests with fuzzed Sentry auth headers, query strings and project ids in the path. */
const anyRequest: fc.Arbitrary<TestRequest> = fc
  .record(
    {
      id: pathId,
      query: fc.oneof(
        { weight: 1, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: query },
      ),
      sentryAuth: fc.option(headerValue, { nil: undefined }),
      authorization: fc.oneof(
        { weight: 3, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: headerValue },
      ),
      method: fc.constantFrom('GET' as const, 'POST' as const),
    },
    { requiredKeys: ['id', 'method'] },
  )
  .map(({ id, query: search, sentryAuth, authorization, method }) => {
    const headers: Record<string, string | string[]> = {};
    if (sentryAuth !== undefined) headers['x-sentry-auth'] = sentryAuth;
    if (authorization !== undefined) headers.authorization = authorization;
    return {
      method,
      path: `/api/${id}/store/${search === undefined ? '' : `?${search}`}`,
      headers,
    };
  });

/**
 * Requests with fuzzed Sentry auth headers, query strings and project ids in the path
 * (oversized, unicode, duplicated and malformed values), a quarter of them built to get in.
 */
export const fuzzedRequest: fc.Arbitrary<TestRequest> = fc.oneof(
  { weight: 3, arbitrary: anyRequest },
  { weight: 1, arbitrary: coherentRequest },
);

/**
 * Limiter options for fuzzing: a counter of its own per distinct request (the quota id hashes
 * the request), so any request that reaches the store leaves a new key behind.
 */
export function fuzzOptions(): { options: SluiceOptions; store: MemoryStore } {
  const store = frozenStore();
  const options: SluiceOptions = {
    store,
    resolveProject,
    quotas: (_project, req) => [
      {
        id: createHash('sha1')
          .update(
            `${req.method} ${req.path} ${JSON.stringify(req.query)} ${JSON.stringify(req.headers)}`,
          )
          .digest('hex'),
        scope: 'project',
        limit: 1_000_000,
        windowSeconds: 3600,
        reasonCode: 'project_quota',
      },
    ],
  };
  return { options, store };
}

/**
 * Sends one fuzzed request and checks the contract: never a 5xx (the framework does not crash
 * either: the call resolves), never a counter for a request that failed authentication, an
 * authenticated answer only for a known project, and sluice's errors as JSON with a short
 * X-Sentry-Error (never the client's bytes at length).
 */
export async function checkFuzzedRequest(
  app: TestApp,
  store: MemoryStore,
  request: TestRequest,
): Promise<void> {
  const before = store.size;
  const res = await app.request(request);
  const fail = (why: string) => {
    throw new Error(`${why}: ${res.status} ${res.body.slice(0, 200)}`);
  };
  if (res.status >= 500) fail('server error');
  if ([400, 401, 403].includes(res.status) && store.size !== before)
    fail('a counter for a refused request');
  if (res.status === 200) {
    const reply = JSON.parse(res.body) as HandlerReply;
    if (!['1', '2', '3'].includes(reply.sluice?.project ?? ''))
      fail('admitted without a known project');
  }
  const error = res.headers['x-sentry-error'];
  if (error !== undefined && error.length > 120)
    fail('X-Sentry-Error repeats the request at length');
  if (error !== undefined && (JSON.parse(res.body) as { error?: string }).error !== error) {
    fail('X-Sentry-Error differs from the JSON error');
  }
}
