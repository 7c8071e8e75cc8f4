import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

type Controllers = typeof import('./controllers.js');

let loaded: Promise<Controllers> | undefined;

/**
 * `controllers.ts` compiled by TypeScript (target ES2022, where TC39 decorators are lowered by
 * tsc exactly as in an app's build) and imported from a temporary file, removed once imported.
 *
 * @example
 * ```ts
 * const { koaController } = await loadControllers();
 * const controller = koaController(quota, limiter, {}, respond);
 * ```
 */
export function loadControllers(): Promise<Controllers> {
  loaded ??= (async () => {
    // TypeScript is loaded only by the suites that build an app: it is large to import.
    const { default: ts } = await import('typescript');
    const source = await readFile(new URL('./controllers.ts', import.meta.url), 'utf8');
    const { outputText, diagnostics } = ts.transpileModule(source, {
      compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
      reportDiagnostics: true,
    });
    if (diagnostics?.length)
      throw new Error(ts.formatDiagnostics(diagnostics, ts.createCompilerHost({})));
    // Node imports a module from a file; once imported, the file is no longer needed.
    const dir = await mkdtemp(join(tmpdir(), 'sluice-controllers-'));
    try {
      const file = join(dir, 'controllers.mjs');
      await writeFile(file, outputText);
      return (await import(/* @vite-ignore */ pathToFileURL(file).href)) as Controllers;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  })();
  return loaded;
}
