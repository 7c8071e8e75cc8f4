import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { builtExample } from './built-example.js';
import { fixture } from './child.js';

/** An app running in its own Node process, listening on a loopback port. */
export interface AppProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** What the process wrote to stderr so far. */
  stderr(): string;
  /** GETs `path` and parses the JSON answer. */
  json<T>(path: string): Promise<T>;
  stop(): Promise<void>;
}

/** Starts the TypeScript fixture `name` (through tsx); it prints `{"port": n}` when it listens. */
export function startApp(name: string, env: Record<string, string>): Promise<AppProcess> {
  return startListening(['--import', 'tsx', fixture(name)], env, /\{"port":(\d+)\}/);
}

/**
 * Starts the built example store endpoint (`examples/store-endpoint/dist/main.js`) on a free
 * port with `framework` and `env`, as a user runs it.
 */
export function startEndpoint(framework: string, env: Record<string, string>): Promise<AppProcess> {
  return startListening(
    [builtExample('main.js'), '--framework', framework],
    { PORT: '0', ...env },
    /on http:\/\/127\.0\.0\.1:(\d+)/,
  );
}

async function startListening(
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
): Promise<AppProcess> {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let stderr = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${args.join(' ')} did not start: ${stderr}`)),
      20_000,
    );
    const look = (chunk: Buffer, isError: boolean) => {
      output += chunk.toString();
      if (isError) stderr += chunk.toString();
      const match = ready.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout!.on('data', (c: Buffer) => look(c, false));
    child.stderr!.on('data', (c: Buffer) => look(c, true));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(' ')} exited with ${code}: ${stderr}`));
    });
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    child,
    stderr: () => stderr,
    async json<T>(path: string) {
      const res = await fetch(`${url}${path}`);
      return (await res.json()) as T;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const exited = once(child, 'exit');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}
