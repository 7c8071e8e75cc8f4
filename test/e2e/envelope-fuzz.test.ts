import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parseEnvelope } from '@sluice/example-store-endpoint/envelope';
import { start } from '@sluice/example-store-endpoint/main';
import { useTempDirs } from '@sluice/test-support/temp-dirs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const KEY = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
const CASES = 1000;

const header = fc.dictionary(
  fc.string({ maxLength: 8 }),
  fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
  {
    maxKeys: 4,
  },
);
/** An item with a length that may lie, a payload that may be binary, a header that may be huge. */
const item = fc.record({
  type: fc.oneof(
    fc.constantFrom('event', 'transaction', 'attachment', 'session', 'client_report', 'span'),
    fc.string(),
  ),
  payload: fc.uint8Array({ maxLength: 64 }),
  lengthDelta: fc.oneof(fc.constant(0), fc.integer({ min: -80, max: 80 }), fc.constant(undefined)),
  extra: header,
  hugeHeader: fc.boolean(),
});
const envelope = fc
  .record({
    head: header,
    items: fc.array(item, { maxLength: 5 }),
    truncate: fc.nat(),
    cut: fc.boolean(),
  })
  .map(({ head, items, truncate, cut }) => {
    const parts: Buffer[] = [Buffer.from(`${JSON.stringify(head)}\n`)];
    for (const it of items) {
      const length =
        it.lengthDelta === undefined ? undefined : Math.max(0, it.payload.length + it.lengthDelta);
      const fields = { ...it.extra, type: it.type, ...(length === undefined ? {} : { length }) };
      const extra = it.hugeHeader ? { padding: 'x'.repeat(70 * 1024) } : {};
      parts.push(
        Buffer.from(`${JSON.stringify({ ...fields, ...extra })}\n`),
        Buffer.from(it.payload),
        Buffer.from('\n'),
      );
    }
    const body = Buffer.concat(parts);
    return cut ? body.subarray(0, truncate % (body.length + 1)) : body;
  });
const body = fc.oneof(
  envelope,
  fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b)),
);
const encoding = fc.constantFrom(undefined, 'gzip', 'deflate', 'br', 'gzip-but-not-really');

describe('envelope parsing', () => {
  it('either parses or throws its own error, for any bytes', () => {
    fc.assert(
      fc.property(body, (bytes) => {
        try {
          parseEnvelope(bytes);
        } catch (error) {
          expect((error as Error).name).toBe('EnvelopeError');
        }
      }),
      { numRuns: CASES },
    );
  });
});

describe.each(['fastify', 'express', 'koa'] as const)(
  'malformed bodies against the endpoint on %s',
  (framework) => {
    const tempDir = useTempDirs('sluice-fuzz-');
    let endpoint: { url: string; close(): Promise<void> };
    beforeAll(async () => {
      const dir = tempDir();
      const configPath = join(dir, 'sluice.config.json');
      writeFileSync(
        configPath,
        JSON.stringify({
          projects: [{ id: 42, organizationId: 7, publicKeys: [KEY], quotas: [] }],
        }),
      );
      endpoint = await start({
        framework,
        port: 0,
        configPath,
        output: join(dir, 'accepted.jsonl'),
      });
    });
    afterAll(() => endpoint.close());

    it(`answers ${CASES} malformed bodies with 2xx or 4xx and a reason, never 5xx`, async () => {
      await fc.assert(
        fc.asyncProperty(body, encoding, fc.boolean(), async (bytes, contentEncoding, toStore) => {
          const payload =
            contentEncoding === 'gzip' && bytes.length % 2 === 0 ? gzipSync(bytes) : bytes;
          const headers: Record<string, string> = {};
          if (contentEncoding !== undefined) headers['Content-Encoding'] = contentEncoding;
          const path = toStore ? 'store' : 'envelope';
          const res = await fetch(
            `${endpoint.url}/api/42/${path}/?sentry_key=${KEY}&sentry_version=7`,
            {
              method: 'POST',
              headers,
              body: payload,
            },
          );
          const text = await res.text();
          expect(res.status, text).toBeLessThan(500);
          if (res.status >= 400) {
            expect(JSON.parse(text).error).toEqual(expect.any(String));
            expect(res.headers.get('x-sentry-error')).toBeTruthy();
          }
        }),
        { numRuns: CASES },
      );
    });

    it('answers a body over the size limit with 413', async () => {
      const res = await fetch(`${endpoint.url}/api/42/envelope/?sentry_key=${KEY}`, {
        method: 'POST',
        body: Buffer.alloc(2 * 1024 * 1024, 0x61),
      });
      expect(res.status).toBe(413);
    });
  },
);
