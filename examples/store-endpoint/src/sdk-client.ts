// A real @sentry/node client in its own process, for the demo and the end-to-end tests. Its
// DSN points at the endpoint; it captures what SDK_PLAN says and prints, as one JSON line,
// every envelope its transport sent (time, item types, status) and what it captured.
// Env: SENTRY_DSN, SDK_PLAN = { errors, transactions, bigErrors, followUpMs, followUpEveryMs }.
import * as Sentry from '@sentry/node';

interface Plan {
  /** Errors captured at once. */
  errors: number;
  /** Transactions captured at once. */
  transactions: number;
  /** Errors with a message over 32 KiB (sent gzipped by the SDK). */
  bigErrors: number;
  /** After the burst, keep capturing one error every `followUpEveryMs` for this long. */
  followUpMs: number;
  followUpEveryMs: number;
}

/** One envelope handed to the SDK's transport; `status` is undefined when the SDK held it back (rate limited). */
export interface SentEnvelope {
  /** Milliseconds since start when the transport began sending it. */
  startedAt: number;
  /** Milliseconds since start when the answer came. */
  at: number;
  types: string[];
  status: number | undefined;
  rateLimits: string | null;
  retryAfter: string | null;
}

const plan: Plan = {
  errors: 0,
  transactions: 0,
  bigErrors: 0,
  followUpMs: 0,
  followUpEveryMs: 250,
  ...JSON.parse(process.env.SDK_PLAN ?? '{}'),
};
const sent: SentEnvelope[] = [];
const started = Date.now();

Sentry.init({
  dsn: process.env.SENTRY_DSN,
  tracesSampleRate: 1,
  sendClientReports: false,
  defaultIntegrations: false,
  transport: (options) => {
    const transport = Sentry.makeNodeTransport(options);
    return {
      ...transport,
      send: async (envelope) => {
        const types = (envelope[1] as unknown as Array<[{ type: string }]>).map(
          ([header]) => header.type,
        );
        const startedAt = Date.now() - started;
        const result = await transport.send(envelope);
        const headers: Record<string, string | null> = result.headers ?? {};
        sent.push({
          startedAt,
          at: Date.now() - started,
          types,
          status: result.statusCode,
          rateLimits: headers['x-sentry-rate-limits'] ?? null,
          retryAfter: headers['retry-after'] ?? null,
        });
        return result;
      },
    };
  },
});

const captured = { errors: 0, transactions: 0 };
const error = (message: string) => {
  Sentry.captureException(new Error(message));
  captured.errors++;
};
for (let i = 0; i < plan.errors; i++) error(`burst error ${i}`);
for (let i = 0; i < plan.bigErrors; i++) error(`big error ${i} ${'x'.repeat(40 * 1024)}`);
for (let i = 0; i < plan.transactions; i++) {
  Sentry.startSpan({ name: `work ${i}`, op: 'demo', forceTransaction: true }, () => {
    Sentry.startSpan({ name: 'child', op: 'demo.child' }, () => undefined);
  });
  captured.transactions++;
}
await Sentry.flush(5000);
const followUpEnd = Date.now() + plan.followUpMs;
while (Date.now() < followUpEnd) {
  await new Promise((resolve) => setTimeout(resolve, plan.followUpEveryMs));
  error('follow-up error');
  await Sentry.flush(2000);
}
await Sentry.close(5000);
console.log(JSON.stringify({ captured, sent }));
