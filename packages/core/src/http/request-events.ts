import type { EventEmitter } from 'node:events';
import type { InvalidConfiguration, StoreUnavailableError } from '../errors.js';
import type { Project } from '../quotas/quota-config.js';
import type { DroppedItem } from './dropped-items.js';
import type { SluiceEvents } from './http-events.js';
import type { RequestState } from './request-state.js';

/**
 * The events of `limiter.events`, emitted at most once per request (and `event_dropped` once
 * per dropped category), however many stages decide it: {@link RequestState} remembers what
 * was said. An event without a listener is not built.
 *
 * @example
 * ```ts
 * const events = new RequestEvents(new EventEmitter<SluiceEvents>());
 * events.accepted(state, req.body); // emits event_accepted
 * events.accepted(state, req.body); // the same request again: nothing
 * ```
 */
export class RequestEvents {
  /** Where the events go: the limiter's `events`. */
  readonly emitter: EventEmitter<SluiceEvents>;

  constructor(emitter: EventEmitter<SluiceEvents>) {
    this.emitter = emitter;
  }

  /** `event_received`: the request was identified (its state was just made). */
  received(state: RequestState): void {
    if (this.emitter.listenerCount('event_received') > 0) {
      this.emitter.emit('event_received', { ip: state.ip, project: state.project });
    }
  }

  /** `event_accepted`, once per request; `data` is the parsed body, when there is one. */
  accepted(state: RequestState, data: unknown): void {
    if (state.accepted) return;
    state.accepted = true;
    if (this.emitter.listenerCount('event_accepted') > 0) {
      this.emitter.emit(
        'event_accepted',
        withData(markLocal(state, { ip: state.ip, project: state.project }), data),
      );
    }
  }

  /** `event_dropped` for `item`, once per request and category. */
  dropped(state: RequestState, item: DroppedItem, shadow: boolean, data: unknown): void {
    if (this.emitter.listenerCount('event_dropped') === 0) return;
    const category = item.category ?? '';
    state.droppedCategories ??= new Set();
    if (state.droppedCategories.has(category)) return;
    state.droppedCategories.add(category);
    this.emitter.emit(
      'event_dropped',
      withData(
        markLocal(state, {
          ip: state.ip,
          project: state.project,
          reasonCode: item.reasonCode,
          retryAfter: item.retryAfter,
          ...(item.category === undefined ? {} : { category: item.category }),
          shadow,
        }),
        data,
      ),
    );
  }

  /** `store_error`, once per request; always emitted. */
  storeError(
    state: RequestState,
    error: StoreUnavailableError,
    policy: 'allow' | 'deny' | 'local',
  ): void {
    if (state.storeErrorReported) return;
    state.storeErrorReported = true;
    this.emitter.emit('store_error', { error, policy, project: state.project });
  }

  /** `config_error`: configuration given per request was invalid; always emitted. */
  configError(error: InvalidConfiguration, project: Project): void {
    this.emitter.emit('config_error', { error, option: error.option, project });
  }
}

/** `event` with `local: true` when the request is decided on the local store; no key otherwise. */
function markLocal<T extends object>(state: RequestState, event: T): T & { local?: true } {
  if (state.local) (event as { local?: true }).local = true;
  return event;
}

/** `event` with `data` when the request has a parsed body; no key at all when it has none. */
function withData<T extends object>(event: T, data: unknown): T & { data?: unknown } {
  if (data !== undefined) (event as { data?: unknown }).data = data;
  return event;
}
