// The page's own script, bundled by esbuild for the browser: the real @sentry/browser, driven
// by the test through `globalThis.sentryPage`.
import * as Sentry from '@sentry/browser';

/** What the test calls in the page. */
export interface SentryPage {
  /** Starts the SDK for `dsn`; its envelopes go out with a non-simple content type (a preflight). */
  init(dsn: string): void;
  /** Captures `count` distinct errors at once, then waits until every send has its answer. */
  burst(count: number, label: string): Promise<void>;
  /** Captures one error; returns the page's clock (ms since the epoch) when it did. */
  error(message: string): number;
  /** Captures one user feedback (category `feedback`), then waits for its answer. */
  feedback(message: string): Promise<void>;
  /** Waits until every send has its answer. */
  flush(): Promise<boolean>;
}

const page: SentryPage = {
  init(dsn) {
    Sentry.init({
      dsn,
      // The envelope media type is not a CORS-safelisted content type: every send is preflighted.
      transportOptions: { headers: { 'Content-Type': 'application/x-sentry-envelope' } },
      // Sessions and client reports are sent on their own schedule: keep the log to what the test sends.
      integrations: (defaults) => defaults.filter((i) => i.name !== 'BrowserSession'),
      sendClientReports: false,
    });
  },
  async burst(count, label) {
    for (let i = 0; i < count; i++) Sentry.captureException(new Error(`${label} ${i}`));
    await Sentry.flush(10_000);
  },
  error(message) {
    const at = Date.now();
    Sentry.captureException(new Error(message));
    return at;
  },
  async feedback(message) {
    Sentry.captureFeedback({ message });
    await Sentry.flush(10_000);
  },
  flush: () => Sentry.flush(10_000),
};

(globalThis as { sentryPage?: SentryPage }).sentryPage = page;
