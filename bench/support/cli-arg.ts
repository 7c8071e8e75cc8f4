/** The value after `--name` on the benchmark's command line, or undefined. */
export function cliArg(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at === -1 ? undefined : process.argv[at + 1];
}
