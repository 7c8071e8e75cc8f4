import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// The README's table of sluice against its peers says, on every line, which test or benchmark
// backs sluice's column. Each file it names (or each pattern, with `*`) must exist, so a line
// cannot outlive the evidence behind it.

const root = new URL('../../', import.meta.url);
const readme = readFileSync(new URL('README.md', root), 'utf8');
const section = readme.slice(readme.indexOf('## sluice and its peers'));
const table = section.slice(0, section.indexOf('\n## ')).split('\n');
const rows = table.filter((line) => line.startsWith('| ') && !line.startsWith('| ---'));

/** Files of `dir` (relative to the root) whose name matches `pattern`, `*` for any run. */
function matching(path: string): string[] {
  const slash = path.lastIndexOf('/');
  const dir = path.slice(0, slash);
  const escaped = path.slice(slash + 1).replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  const name = new RegExp(`^${escaped.replaceAll('*', '[^/]*')}$`);
  return readdirSync(new URL(`${dir}/`, root)).filter((file) => name.test(file));
}

describe("README's table of sluice against its peers", () => {
  it('has a line per capability, each naming what backs it', () => {
    const [header, ...lines] = rows;
    expect(header).toContain('backed by');
    expect(lines.length).toBeGreaterThanOrEqual(15);
    for (const line of lines) {
      const cells = line.split(' | ');
      const backedBy = cells.at(-1)!;
      expect(backedBy, line).toMatch(/`(test|bench)\/[^`]+`/);
      expect(cells[1], `${line}: sluice's column`).toMatch(/^(yes|all four)/);
    }
  });

  it('names only files that exist', () => {
    const named = rows.flatMap((line) =>
      [
        ...line
          .split(' | ')
          .at(-1)!
          .matchAll(/`((?:test|bench)\/[^`]+)`/g),
      ].map((m) => m[1]!),
    );
    expect(named.length).toBeGreaterThan(20);
    for (const path of named) expect(matching(path), path).not.toEqual([]);
  });
});
