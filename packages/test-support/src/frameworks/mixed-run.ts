import type { IncomingMessage, ServerResponse } from 'node:http';
import { request } from 'node:http';
import { sentryAuth } from './projects.js';
import type { TestApp } from './types.js';

/** What a mixed run saw from the client side. */
export interface MixedRunResult {
  /** Responses by status, and `aborted` for requests the client gave up on. */
  readonly outcomes: Record<string, number>;
}

/** The four kinds of request a mixed run sends, in turn. */
const KINDS = ['store', 'fail', 'hang', 'store'] as const;

/**
 * Sends `total` requests over real sockets, `parallel` at a time, to an app whose limiter
 * holds a concurrency slot per request: in turn a normal response, a handler error (500), a
 * client that disconnects while the handler never answers, and a client that disconnects as
 * soon as the server has its request (often while the limiter is still deciding). Projects
 * alternate between `keys`.
 *
 * Resolves once every response has closed on the server and every request was decided (one
 * `event_accepted` or `event_dropped` each), and the microtasks that follow have run: from
 * then on every slot taken has been given back, or is leaked.
 */
export async function mixedRun(
  app: TestApp,
  { total, parallel, keys }: { total: number; parallel: number; keys: readonly string[] },
): Promise<MixedRunResult> {
  const { server, port } = await app.listen();
  const seen = new Map<string, () => void>();
  const closed = new Map<string, () => void>();
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const id = req.headers['x-run-id'] as string;
    seen.get(id)?.();
    res.once('close', () => closed.get(id)?.());
  };
  server.on('request', onRequest);
  let decided = 0;
  let allDecided: () => void = () => undefined;
  const decisions = new Promise<void>((resolve) => {
    allDecided = resolve;
  });
  const count = () => {
    if (++decided === total) allDecided();
  };
  app.limiter.events.on('event_accepted', count);
  app.limiter.events.on('event_dropped', count);

  const outcomes: Record<string, number> = {};
  const closes: Promise<void>[] = [];
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const i = next++;
      const id = String(i);
      const kind = KINDS[i % KINDS.length]!;
      const project = 1 + (Math.floor(i / KINDS.length) % keys.length);
      const sawRequest = new Promise<void>((resolve) => seen.set(id, resolve));
      closes.push(new Promise<void>((resolve) => closed.set(id, resolve)));
      const abort = i % KINDS.length >= 2;
      const outcome = await send(
        port,
        `/api/${project}/${kind}/`,
        {
          ...sentryAuth(keys[project - 1]!),
          'x-run-id': id,
        },
        abort ? sawRequest : undefined,
      );
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  await Promise.all(closes);
  await decisions;
  await new Promise((resolve) => setImmediate(resolve));
  server.off('request', onRequest);
  app.limiter.events.off('event_accepted', count);
  app.limiter.events.off('event_dropped', count);
  return { outcomes };
}

function send(
  port: number,
  path: string,
  headers: Record<string, string>,
  abortWhen: Promise<void> | undefined,
): Promise<string> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, headers, agent: false });
    req.on('response', (res) => {
      res.on('error', () => resolve('aborted'));
      res.on('end', () => resolve(String(res.statusCode)));
      res.resume();
    });
    req.on('error', () => resolve('aborted'));
    req.end();
    abortWhen?.then(() => {
      req.destroy();
      resolve('aborted');
    });
  });
}
