import type { SluiceEvents } from '@sluice/core';
import type { HttpLimiter } from '@sluice/core/adapter';

/** One event of `limiter.events`, in the order it was emitted. */
export type RecordedEvent = {
  [K in keyof SluiceEvents]: { name: K; event: SluiceEvents[K][0] };
}[keyof SluiceEvents];

const NAMES = [
  'event_received',
  'event_accepted',
  'event_dropped',
  'store_error',
  'config_error',
  'store_fallback',
] as const;

/** Records every event of `limiter`; `take()` returns those since the last call. */
export function recordEvents(limiter: HttpLimiter): { take(): RecordedEvent[] } {
  const log: RecordedEvent[] = [];
  const events = limiter.events as unknown as NodeJS.EventEmitter;
  for (const name of NAMES) {
    events.on(name, (event: unknown) => log.push({ name, event } as RecordedEvent));
  }
  return { take: () => log.splice(0) };
}
