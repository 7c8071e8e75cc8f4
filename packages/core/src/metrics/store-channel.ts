import { channel } from 'node:diagnostics_channel';

/**
 * Name of the `node:diagnostics_channel` channel on which every store call is published, as a
 * {@link StoreCallMessage}.
 *
 * @example
 * ```ts
 * import { subscribe } from 'node:diagnostics_channel';
 * subscribe(STORE_CHANNEL, (message) => {
 *   const { operation, durationMs } = message as StoreCallMessage;
 *   if (durationMs > 50) console.warn(`slow ${operation}: ${durationMs} ms`);
 * });
 * ```
 */
export const STORE_CHANNEL = 'sluice:store';

/**
 * One store call, published on {@link STORE_CHANNEL} when it settles: one atomic operation of
 * an engine (one Lua script call on Redis, batched or not; one synchronous step in memory).
 *
 * @example
 * ```ts
 * subscribe(STORE_CHANNEL, (message) => {
 *   const call = message as StoreCallMessage;
 *   if (call.error !== undefined) console.error(call.operation, call.error);
 * });
 * ```
 */
export interface StoreCallMessage {
  /** Which store ran it. */
  readonly store: 'memory' | 'redis';
  /** The operation's namespaced name, e.g. `sluice_quotas_decide`. */
  readonly operation: string;
  /**
   * Milliseconds from the call to its answer, on `performance.now()`: on Redis this includes
   * queueing, batching and the round trip, up to the store's `timeoutMs`.
   */
  readonly durationMs: number;
  /** What the call failed with (a `StoreUnavailableError` from the stores); absent on success. */
  readonly error?: unknown;
}

/**
 * The store channel itself: stores check its `hasSubscribers` before timing a call, so a store
 * call without a subscriber costs one property read.
 *
 * @example
 * ```ts
 * if (storeChannel.hasSubscribers) return timedCall();
 * ```
 */
export const storeChannel = channel(STORE_CHANNEL);

/**
 * Publishes a store call that ran from `startedAt` (`performance.now()`) until now. Call it
 * only when {@link storeChannel} has subscribers.
 *
 * @example
 * ```ts
 * const startedAt = performance.now();
 * const result = step();
 * publishStoreCall('memory', operation.name, startedAt, undefined);
 * ```
 */
export function publishStoreCall(
  store: StoreCallMessage['store'],
  operation: string,
  startedAt: number,
  error: unknown,
): void {
  const durationMs = performance.now() - startedAt;
  const message: StoreCallMessage =
    error === undefined
      ? { store, operation, durationMs }
      : { store, operation, durationMs, error };
  storeChannel.publish(message);
}

/**
 * `call()`, timed and published on {@link STORE_CHANNEL} when it settles, whether it resolves
 * or rejects (the promise settles the same either way). Call it only when {@link storeChannel}
 * has subscribers.
 *
 * @example
 * ```ts
 * if (!storeChannel.hasSubscribers) return batcher.run(operation, args);
 * return timedStoreCall('redis', operation.name, () => batcher.run(operation, args));
 * ```
 */
export function timedStoreCall<R>(
  store: StoreCallMessage['store'],
  operation: string,
  call: () => Promise<R>,
): Promise<R> {
  const startedAt = performance.now();
  return call().then(
    (result) => {
      publishStoreCall(store, operation, startedAt, undefined);
      return result;
    },
    (error: unknown) => {
      publishStoreCall(store, operation, startedAt, error ?? new Error('store call failed'));
      throw error;
    },
  );
}
