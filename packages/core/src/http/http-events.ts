import type { InvalidConfiguration } from '../errors.js';
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
}

/** `store_error`: the store failed or missed its deadline; `policy` decided instead. */
export interface StoreErrorEvent {
  error: Error;
  policy: 'allow' | 'deny';
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

/** The events of `limiter.events`, for a typed Node EventEmitter. */
export interface SluiceEvents {
  event_received: [EventReceived];
  event_accepted: [EventAccepted];
  event_dropped: [EventDropped];
  store_error: [StoreErrorEvent];
  config_error: [ConfigErrorEvent];
}
