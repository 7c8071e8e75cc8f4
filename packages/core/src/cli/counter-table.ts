import type { CounterReport, CounterWindow } from './quota-counters.js';

const HEADINGS = [
  'organization',
  'quota',
  'scope',
  'id',
  'window',
  'from (UTC)',
  'to (UTC)',
  'used',
  'refunded',
  'net',
  'expires in',
] as const;

/**
 * A report as a plain-text table, one line per counter window, the current window marked `*`.
 *
 * @example
 * ```ts
 * process.stdout.write(counterTable(report, 'reset'));
 * ```
 */
export function counterTable(report: CounterReport, command: 'inspect' | 'reset'): string {
  const time = new Date(report.timeMs).toISOString();
  if (report.windows.length === 0) {
    return `No counters found (Redis time ${time}).\n`;
  }
  const rows = report.windows.map(row);
  const widths = HEADINGS.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i >= 7 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const verb = command === 'reset' ? 'Deleted' : 'Found';
  return [
    `${verb} ${report.windows.length} counter window(s) at Redis time ${time}; * marks the current window.`,
    line(HEADINGS),
    ...rows.map(line),
    '',
  ].join('\n');
}

/**
 * A report as JSON: `{ time, windows: [...] }` with ISO times, one object per window.
 *
 * @example
 * ```ts
 * const { windows } = JSON.parse(counterJson(report));
 * ```
 */
export function counterJson(report: CounterReport): string {
  return `${JSON.stringify(
    {
      time: new Date(report.timeMs).toISOString(),
      windows: report.windows.map((w) => ({
        organization: w.organization,
        quota: w.quota,
        scope: w.scope,
        id: w.value,
        windowSeconds: w.windowSeconds,
        from: iso(w.start),
        to: iso(w.end),
        current: w.current,
        used: w.used,
        refunded: w.refunded,
        net: w.net,
        expiresInMs: w.expiresInMs,
        keys: w.keys,
      })),
    },
    null,
    2,
  )}\n`;
}

function row(w: CounterWindow): string[] {
  return [
    printable(w.organization),
    printable(w.quota),
    w.scope,
    printable(w.value),
    `${w.windowSeconds} s`,
    `${iso(w.start)}${w.current ? ' *' : ''}`,
    iso(w.end),
    String(w.used),
    String(w.refunded),
    String(w.net),
    w.expiresInMs === -1 ? 'never' : `${Math.ceil(w.expiresInMs / 1000)} s`,
  ];
}

/** Unix seconds as `2026-12-02T10:00:07Z`. */
function iso(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
}

/** An id as a table shows it: quoted and escaped when it holds a control character. */
function printable(id: string): string {
  // Ids come from requests; a raw escape sequence must not reach the operator's terminal.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
  return /[\u0000-\u001f\u007f-\u009f]/.test(id) || id === '' ? JSON.stringify(id) : id;
}
