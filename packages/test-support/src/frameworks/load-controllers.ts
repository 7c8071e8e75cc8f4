import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';

type Controllers = typeof import('./controllers.js');

let loaded: Promise<Controllers> | undefined;

/**
 * `controllers.ts` compiled by TypeScript (target ES2022, where TC39 decorators are lowered by
 * tsc exactly as in an app's build) and imported.
 */
export function loadControllers(): Promise<Controllers> {
  loaded ??= (async () => {
    const source = await readFile(new URL('./controllers.ts', import.meta.url), 'utf8');
    const { outputText, diagnostics } = ts.transpileModule(source, {
      compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
      reportDiagnostics: true,
    });
    if (diagnostics?.length)
      throw new Error(ts.formatDiagnostics(diagnostics, ts.createCompilerHost({})));
    const file = join(tmpdir(), `sluice-controllers-${process.pid}-${Date.now()}.mjs`);
    await writeFile(file, outputText);
    return (await import(/* @vite-ignore */ pathToFileURL(file).href)) as Controllers;
  })();
  return loaded;
}
