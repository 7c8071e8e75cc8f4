import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** A page on its own origin that runs the real `@sentry/browser` (bundled by esbuild). */
export interface PageServer {
  /** The page's address: another origin than the endpoint's, so every send is cross-origin. */
  readonly url: string;
  close(): Promise<void>;
}

const entry = fileURLToPath(new URL('./sentry-page.ts', import.meta.url));
const HTML =
  '<!doctype html><meta charset="utf-8"><title>sluice page</title><script src="/sentry-page.js"></script>';

/** Bundles the page's script and serves it with a blank page on a free loopback port. */
export async function startPageServer(): Promise<PageServer> {
  const bundle = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'chrome120',
    logLevel: 'error',
  });
  const script = bundle.outputFiles[0]!.contents;
  const server: Server = createServer((req, res) => {
    if (req.url === '/sentry-page.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
    } else if (req.url === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(HTML);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, 'localhost', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://localhost:${port}/`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
