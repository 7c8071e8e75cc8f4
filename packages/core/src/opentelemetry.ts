/**
 * `@sluice/core/opentelemetry`: the OpenTelemetry bridge of sluice's diagnostics channels. It
 * is its own entry point so that `@sluice/core` never loads `@opentelemetry/api`, an optional
 * peer dependency that only this entry needs.
 */

export { OTHER_VALUE } from './metrics/bounded-values.js';
export { type SluiceMetrics, sluiceMetrics } from './metrics/otel-bridge.js';
export {
  DEFAULT_MAX_ATTRIBUTE_VALUES,
  DEFAULT_NEAR_LIMIT_RATIO,
  type SluiceMetricsOptions,
} from './metrics/otel-options.js';
