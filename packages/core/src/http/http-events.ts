import type { InvalidConfiguration } from '../errors.js';
import type { FallbackMessage } from '../metrics/fallback-channel.js';
import type { Project } from '../quotas/quota-config.js';

/** `event_received`: a request was identified. */
export interface EventReceived {
  ip: string;
  project: Project;
}

/** `event_accepted`: a request (or some of its items) was admitted. */
export interface EventAccepted {
  ip: string;
  project: Project;
  /** The parsed body, when the framework had parsed it. */
  data?: unknown;
  /** Present (true) when decided on the local store while the store fails (`onStoreError: 'local'`). */
  local?: true;
}

/** `event_dropped`: a request, or one category of its items, was refused (or would be, in shadow mode). */
export interface EventDropped {
  ip: string;
  project: Project;
  /** Why, e.g. `project_quota`, `sliding_window`, `concurrency_limit`, `store_unavailable`. */
  reasonCode: string;
  /** Seconds until the client may retry. */
  retryAfter: number;
  /** The dropped data category, when the request had one. */
  category?: string;
  /** The parsed body, when the framework had parsed it. */
  data?: unknown;
  /** True in shadow mode: nothing was refused; `event_accepted` follows. */
  shadow: boolean;
  /** Present (true) when decided on the local store while the store fails (`onStoreError: 'local'`). */
  local?: true;
}

/**
 * `store_error`: the store failed or missed its deadline for a request; `policy` decided it
 * instead (`local`: on the in-process store, see `store_fallback`).
 */
export interface StoreErrorEvent {
  error: Error;
  policy: 'allow' | 'deny' | 'local';
  project: Project;
}

/**
 * `config_error`: configuration that arrives per request was invalid (a `getQuotas` result, an
 * `items()` result, a `windows.prefix()` that is not a string); the request was answered 500.
 */
export interface ConfigErrorEvent {
  /** What is wrong, naming the option (`getQuotas()[0].limit`). */
  error: InvalidConfiguration;
  /** The option, as `error.option`. */
  option: string;
  /** The request's project. */
  project: Project;
}

/**
 * `store_fallback`: with `onStoreError: 'local'`, decisions moved to the in-process store
 * (`start`, with the failure) or back to the store (`stop`); once per transition, never per
 * request. The same message goes to the `sluice:fallback` diagnostics channel.
 */
export type StoreFallbackEvent = FallbackMessage;

/** The events of `limiter.events`, for a typed Node EventEmitter. */
export interface SluiceEvents {
  event_received: [EventReceived];
  event_accepted: [EventAccepted];
  event_dropped: [EventDropped];
  store_error: [StoreErrorEvent];
  store_fallback: [StoreFallbackEvent];
  config_error: [ConfigErrorEvent];
}
