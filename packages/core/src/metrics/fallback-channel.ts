import { channel } from 'node:diagnostics_channel';

/**
 * Name of the `node:diagnostics_channel` channel on which the local fallback
 * (`onStoreError: 'local'`) says that it starts or stops.
 *
 * @example
 * ```ts
 * import { subscribe } from 'node:diagnostics_channel';
 * subscribe(FALLBACK_CHANNEL, (message) => console.log((message as FallbackMessage).state));
 * ```
 */
export const FALLBACK_CHANNEL = 'sluice:fallback';

/**
 * A message of {@link FALLBACK_CHANNEL}: one per transition of one limiter, never per request.
 * `start` when a store call fails and decisions move to the in-process store (with the `error`
 * that moved them), `stop` when the store answers again (with how long the fallback lasted and
 * how many decisions it made).
 *
 * @example
 * ```ts
 * const onFallback = (message: FallbackMessage) =>
 *   message.state === 'start' ? alert(message.error) : log(`${message.localDecisions} decided locally`);
 * ```
 */
export type FallbackMessage =
  | {
      readonly state: 'start';
      /** The store failure that started it (usually a `StoreUnavailableError`). */
      readonly error: unknown;
    }
  | {
      readonly state: 'stop';
      /** Milliseconds from `start` to the store's first answer. */
      readonly durationMs: number;
      /** Decisions made on the in-process store in that time. */
      readonly localDecisions: number;
    };

const fallbackChannel = channel(FALLBACK_CHANNEL);

/**
 * Publishes the message `build` makes on {@link FALLBACK_CHANNEL}; builds nothing when the
 * channel has no subscriber.
 *
 * @example
 * ```ts
 * publishFallback(() => ({ state: 'start', error }));
 * ```
 */
export function publishFallback(build: () => FallbackMessage): void {
  if (fallbackChannel.hasSubscribers) fallbackChannel.publish(build());
}
