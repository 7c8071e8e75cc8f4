import type { Page } from 'puppeteer-core';

/** One request the page sent to the endpoint, with Chromium's own times (ms since the epoch). */
export interface SentRequest {
  /**
   * A CORS preflight (`OPTIONS`), or what a POSTed envelope carries: an error event, a user
   * feedback, or something else.
   */
  readonly kind: 'preflight' | 'event' | 'feedback' | 'other';
  /** When Chromium sent it. */
  readonly sentAt: number;
  status?: number;
  /** When Chromium had the answer's headers. */
  answeredAt?: number;
  rateLimits?: string | undefined;
}

/**
 * Resolves once every request in `log` has its answer: the DevTools events arrive on their own
 * session, so they may come in after the page has already seen the answers.
 *
 * @example
 * await inPage('flush');
 * await answered(sent);
 */
export async function answered(log: readonly SentRequest[], timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (log.some((entry) => entry.status === undefined)) {
    if (Date.now() > deadline) throw new Error('the endpoint did not answer every request in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * Records the POSTs and CORS preflights `page` sends to `origin` from Chromium's DevTools network events, timed by
 * the browser's own clock (not by when this process hears of them), so they compare exactly
 * with the SDK's decisions in the page.
 *
 * @example
 * const sent = await recordRequests(page, endpoint.url);
 * // ... drive the page ...
 * sent.filter((r) => r.kind === 'event' && r.status === 429);
 */
export async function recordRequests(page: Page, origin: string): Promise<SentRequest[]> {
  const log: SentRequest[] = [];
  const pending = new Map<string, { entry: SentRequest; wallTime: number; timestamp: number }>();
  const cdp = await page.createCDPSession();
  cdp.on('Network.requestWillBeSent', ({ requestId, request, wallTime, timestamp }) => {
    if (!request.url.startsWith(origin)) return;
    if (request.method !== 'POST' && request.method !== 'OPTIONS') return;
    const kind = request.method === 'OPTIONS' ? 'preflight' : envelopeKind(request);
    const entry: SentRequest = { kind, sentAt: wallTime * 1000 };
    pending.set(requestId, { entry, wallTime, timestamp });
    log.push(entry);
  });
  cdp.on('Network.responseReceived', ({ requestId, response, timestamp }) => {
    const sent = pending.get(requestId);
    if (sent === undefined) return;
    sent.entry.status = response.status;
    // The event's timestamp is monotonic: place it on the wall clock of the request's start.
    sent.entry.answeredAt = (sent.wallTime + (timestamp - sent.timestamp)) * 1000;
    const header = Object.entries(response.headers).find(
      ([name]) => name.toLowerCase() === 'x-sentry-rate-limits',
    );
    sent.entry.rateLimits = header?.[1];
  });
  await cdp.send('Network.enable');
  return log;
}

/** What a POSTed envelope carries, read from its body (an item header's `"type"`). */
function envelopeKind(request: {
  postData?: string;
  postDataEntries?: Array<{ bytes?: string }>;
}): SentRequest['kind'] {
  const body =
    request.postData ??
    (request.postDataEntries ?? [])
      .map((part) => Buffer.from(part.bytes ?? '', 'base64').toString('utf8'))
      .join('');
  if (body.includes('"type":"event"')) return 'event';
  if (body.includes('"type":"feedback"')) return 'feedback';
  return 'other';
}
