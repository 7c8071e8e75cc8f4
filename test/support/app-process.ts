import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
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

/**
 * Starts the TypeScript fixture `name` (through tsx) with `env` and waits for the
 * `{"port": n}` line it prints when it listens.
 */
export async function startApp(name: string, env: Record<string, string>): Promise<AppProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture(name)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const port = await new Promise<number>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => reject(new Error(`${name} did not start: ${stderr}`)), 20_000);
    child.stdout!.on('data', (c: Buffer) => {
      stdout += c.toString();
      const match = /\{"port":(\d+)\}/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code}: ${stderr}`));
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
