import type { LockoutReport } from './lockout-report.js';
import { printableId } from './printable-id.js';
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
 * A report as JSON: `{ time, windows: [...], lockout }` with ISO times, one object per window,
 * and the lockout (`lockout` is left out when not given).
 *
 * @example
 * ```ts
 * const { windows, lockout } = JSON.parse(counterJson(report, await readLockout(store, '42')));
 * ```
 */
export function counterJson(report: CounterReport, lockout?: LockoutReport): string {
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
      lockout,
    },
    null,
    2,
  )}\n`;
}

function row(w: CounterWindow): string[] {
  return [
    printableId(w.organization),
    printableId(w.quota),
    w.scope,
    printableId(w.value),
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
