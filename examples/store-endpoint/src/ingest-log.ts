import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import type { IngestItem } from './ingest.js';

/**
 * `GET /api/:projectId/stats/`: accepted items per category, dropped per category and reason.
 * A container counts the items it holds (a 2-span item is 2 spans); an attachment counts 1.
 */
export interface ProjectStats {
  accepted: Record<string, number>;
  dropped: Record<string, Record<string, number>>;
}

/**
 * Where accepted data goes (one JSON line per item, to a file or stdout) and the per-project
 * counts the stats route answers.
 */
export class IngestLog {
  readonly #out: Writable;
  readonly #stats = new Map<string, ProjectStats>();

  /** `target`: a file path, or `-` for stdout. */
  constructor(target: string) {
    this.#out = target === '-' ? process.stdout : createWriteStream(target, { flags: 'a' });
  }

  /** Records accepted items and writes them out. */
  accepted(
    projectId: string | number,
    eventId: string | undefined,
    items: readonly IngestItem[],
  ): void {
    const stats = this.stats(projectId);
    const receivedAt = new Date().toISOString();
    for (const { item, category, count } of items) {
      const name = category ?? 'internal';
      // Client reports are the SDK's bookkeeping, written out but not counted as data.
      if (category !== undefined) stats.accepted[name] = (stats.accepted[name] ?? 0) + count;
      this.#out.write(
        `${JSON.stringify({ projectId, eventId, type: item.type, category: name, receivedAt, payload: render(item.payload) })}\n`,
      );
    }
  }

  /** Records `count` dropped items of `category` refused for `reasonCode`. */
  dropped(projectId: string | number, category: string, reasonCode: string, count: number): void {
    const stats = this.stats(projectId);
    const byReason = stats.dropped[category] ?? {};
    stats.dropped[category] = byReason;
    byReason[reasonCode] = (byReason[reasonCode] ?? 0) + count;
  }

  /** The counts of one project (created empty on first use). */
  stats(projectId: string | number): ProjectStats {
    const id = String(projectId);
    let stats = this.#stats.get(id);
    if (stats === undefined) {
      stats = { accepted: {}, dropped: {} };
      this.#stats.set(id, stats);
    }
    return stats;
  }
}

function render(payload: Buffer): unknown {
  if (payload.length > 64 * 1024) return `<${payload.length} bytes>`;
  const text = payload.toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return text.length > 512 ? `<${payload.length} bytes>` : text;
  }
}
