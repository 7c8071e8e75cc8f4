import { subscribe, unsubscribe } from 'node:diagnostics_channel';

/** The messages one subscriber received on a diagnostics channel, and how to stop it. */
export interface ChannelRecording<T> {
  /** Every message received, in order. */
  readonly messages: T[];
  /** The messages received since the last call, and forgets them. */
  take(): T[];
  /** Unsubscribes (idempotent). */
  stop(): void;
}

/**
 * Subscribes to the `node:diagnostics_channel` channel `name` (e.g. `sluice:decision`) and
 * records what it publishes until `stop()`.
 *
 * @example
 * ```ts
 * const decisions = recordChannel<DecisionMessage>(DECISION_CHANNEL);
 * await quotas.isRateLimited(project);
 * expect(decisions.take().map((m) => m.outcome)).toEqual(['admitted']);
 * decisions.stop();
 * ```
 */
export function recordChannel<T>(name: string): ChannelRecording<T> {
  const messages: T[] = [];
  let taken = 0;
  const listener = (message: unknown) => {
    messages.push(message as T);
  };
  subscribe(name, listener);
  let stopped = false;
  return {
    messages,
    take() {
      const fresh = messages.slice(taken);
      taken = messages.length;
      return fresh;
    },
    stop() {
      if (stopped) return;
      stopped = true;
      unsubscribe(name, listener);
    },
  };
}
