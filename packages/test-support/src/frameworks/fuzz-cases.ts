import { createHash } from 'node:crypto';
import { type MemoryStore, Quota, type SluiceOptions, type Store } from '@sluice/core';
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

/** Text a client can put in a query value: any string, percent-encoded, and hostile constants. */
const hostileQueryValue = fc.oneof(
  fc.string({ maxLength: 30 }).map(encodeURIComponent),
  fc.string({ unit: 'grapheme', maxLength: 20 }).map(encodeURIComponent),
  fc
    .string({ unit: 'binary', maxLength: 10 })
    .map((s) => encodeURIComponent(s.replace(/[\ud800-\udfff]/g, '\ufffd'))),
  fc.constantFrom(
    '%0D%0A',
    '%E4%B8%AD',
    '%00',
    '%ED%A0%80',
    'a%2C%2026%3Aerror%3Aorganization%3Aforged',
    'x%3By',
    '',
    'error',
    '%25',
    '(%22)',
    '1',
    '-1',
    '1.5',
    'NaN',
    '__proto__',
    'constructor',
    'toString',
  ),
  fc.nat(300).map((n) => 'c'.repeat(n)),
);

/**
 * Requests whose category (`cat`), quantity (`n`), concurrency key (`k`) and window prefix
 * (`x-prefix`) come from the client, each sometimes hostile; always with a valid key.
 */
export const valueRequest: fc.Arbitrary<TestRequest> = fc
  .record({
    cat: fc.option(hostileQueryValue, { nil: undefined }),
    n: fc.option(fc.oneof(fc.constantFrom('0', '1', '2', '3'), hostileQueryValue), {
      nil: undefined,
    }),
    k: fc.option(hostileQueryValue, { nil: undefined }),
    prefix: fc.option(
      fc.oneof(text, fc.constantFrom('{x}', '}', '%', 'p')).map((v) => onTheWire(v).slice(0, 2000)),
      { nil: undefined },
    ),
    method: fc.constantFrom('GET' as const, 'POST' as const),
  })
  .map(({ cat, n, k, prefix, method }): TestRequest => {
    const search = [
      cat === undefined ? '' : `cat=${cat}`,
      n === undefined ? '' : `n=${n}`,
      k === undefined ? '' : `k=${k}`,
      `sentry_key=${KEYS[0]}`,
    ].filter((p) => p !== '');
    return {
      method,
      path: `/api/1/store/?${search.join('&')}`,
      headers: prefix === undefined ? {} : { 'x-prefix': prefix },
    } as TestRequest;
  });

/**
 * Options that carry request values into every header sluice writes: the category into
 * `X-Sentry-Rate-Limits` (a quota of 2 per category, a window of 1 per prefix), the
 * quantity into the IETF headers, the concurrency key into the store.
 */
export function valueOptions(store: Store): SluiceOptions {
  const first = (value: unknown) => (Array.isArray(value) ? value[0] : value) as string | undefined;
  return {
    store,
    resolveProject,
    category: (req) => req.query.cat as string | undefined,
    quantity: (req) => (req.query.n === undefined ? 1 : Number(first(req.query.n))),
    quotas: (_project, req) => [
      {
        id: `q:${JSON.stringify(req.query.cat ?? null)}`,
        scope: 'project',
        limit: 2,
        windowSeconds: 3600,
        reasonCode: 'project_quota',
      },
    ],
    windows: {
      prefix: (req) => String(req.headers['x-prefix'] ?? 'w'),
      quotas: [new Quota({ windowSeconds: 60, granularitySeconds: 10, limit: 1 })],
    },
    concurrency: { limit: 100, key: (req) => String(first(req.query.k) ?? 'all') },
    rateLimitHeaders: true,
  };
}

/** A header value Node writes as it is: visible ASCII and spaces. */
const WELL_FORMED = /^[\x20-\x7e]*$/;
/** One `X-Sentry-Rate-Limits` entry: no field can hold a separator. */
const ENTRY = /^\d+:[^:,; ]*(?:;[^:,; ]+)*:(?:organization|project|key):[^:,; ]+$/;

/**
 * Sends one request of {@link valueRequest} and checks: a 200, 400 or 429 (never a 5xx, the
 * call resolves), every header well formed, one `X-Sentry-Rate-Limits` entry of sluice's own
 * on a 429 and finite whole numbers in it, and no store call for a 400.
 */
export async function checkValueRequest(
  app: TestApp,
  store: Store & { calls: number },
  request: TestRequest,
): Promise<number> {
  const before = store.calls;
  const res = await app.request({
    ...request,
    headers: { ...request.headers },
  });
  const fail = (why: string) => {
    throw new Error(
      `${why}: ${res.status} ${JSON.stringify(res.headers)} ${res.body.slice(0, 200)}`,
    );
  };
  if (![200, 400, 429].includes(res.status)) fail('not 200, 400 or 429');
  for (const value of Object.values(res.headers)) if (!WELL_FORMED.test(value)) fail('header');
  if (res.status === 400 && store.calls !== before) fail('a store call for a 400');
  const limits = res.headers['x-sentry-rate-limits'];
  if (res.status === 429) {
    const entries = (limits ?? '').split(', ');
    if (entries.length !== 1 || !ENTRY.test(entries[0]!)) fail('X-Sentry-Rate-Limits');
    if (!/^\d+$/.test(res.headers['retry-after'] ?? '')) fail('Retry-After');
  }
  for (const name of ['ratelimit', 'ratelimit-policy']) {
    const value = res.headers[name];
    // Policy names may hold request text (a quota id from a category): only the numbers count.
    const numbers = value?.replace(/"(?:[^"\\]|\\.)*"/g, '""');
    if (numbers !== undefined && /Infinity|NaN|-/.test(numbers)) fail(name);
  }
  return res.status;
}
