import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { type Attributes, metrics } from '@opentelemetry/api';
import { BoundedValues } from './bounded-values.js';
import { CountedSeries } from './counted-series.js';
import { DECISION_CHANNEL, type DecisionMessage } from './decision-channel.js';
import { FALLBACK_CHANNEL, type FallbackMessage } from './fallback-channel.js';
import { resolveMetricsOptions, type SluiceMetricsOptions } from './otel-options.js';
import { STORE_CHANNEL, type StoreCallMessage } from './store-channel.js';

/**
 * Bucket bounds of `sluice.store.duration`, in seconds: 50 us (a memory step) to 1 s (past
 * any sensible `timeoutMs`), so both stores and a timing-out Redis are told apart.
 */
const STORE_DURATION_BUCKETS = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
];

/**
 * A running bridge: {@link SluiceMetrics.stop} unsubscribes it.
 *
 * @example
 * ```ts
 * const bridge = sluiceMetrics({ meterProvider });
 * process.on('SIGTERM', () => bridge.stop());
 * ```
 */
export interface SluiceMetrics {
  /** Unsubscribes from every channel; the instruments stay, and their totals stop growing. */
  stop(): void;
}

/**
 * Turns sluice's diagnostics channels into OpenTelemetry metrics, after Envoy's ratelimit
 * statistics:
 *
 * - `sluice.decisions` (counter): every decision, by `engine`, `outcome` (`admitted`,
 *   `refused`, `shadow_refused`), `rule`, `reason`, `category`, `shadow`, `local` and
 *   `from_cache` (Envoy's `total_hits`, `over_limit`, `within_limit`);
 * - `sluice.near_limit` (counter): admissions whose bound rule has used more than
 *   `nearLimitRatio` of its limit (Envoy's `near_limit`);
 * - `sluice.shadow_refusals` (counter): refusals reported and not enforced (Envoy's
 *   `shadow_mode`);
 * - `sluice.store.duration` (histogram, seconds): every store call, by `store`, `operation`
 *   and, when it failed, `error.type` (`timeout` or the error's name);
 * - `sluice.fallback.transitions` (counter, by `state`) and `sluice.fallback.active`
 *   (up-down counter): the local fallback starting and stopping.
 *
 * The three decision counters are observable counters, totalled in-process and read by the SDK
 * when it collects (an ordinary counter to every exporter), so a decision costs a map lookup
 * rather than the SDK's attribute hashing. Attributes have bounded cardinality: each takes at
 * most `maxAttributeValues` distinct values (then `_other`), and the project id is added only
 * with `projectAttribute: true`.
 *
 * @example
 * ```ts
 * import { MeterProvider } from '@opentelemetry/sdk-metrics';
 * import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
 * import { sluiceMetrics } from '@sluice/core/opentelemetry';
 *
 * const exporter = new PrometheusExporter({ port: 9464 }); // serves /metrics
 * const bridge = sluiceMetrics({ meterProvider: new MeterProvider({ readers: [exporter] }) });
 * ```
 */
export function sluiceMetrics(options?: SluiceMetricsOptions): SluiceMetrics {
  const { meter, projectAttribute, nearLimitRatio, maxAttributeValues } = resolveMetricsOptions(
    options,
    () => metrics.getMeterProvider(),
  );
  const bounded = () => new BoundedValues(maxAttributeValues);
  const rules = bounded();
  const reasons = bounded();
  const categories = bounded();
  const operations = bounded();
  const errorTypes = bounded();

  const decisions = new CountedSeries(meter, 'sluice.decisions', {
    description: 'Rate-limiting decisions, by engine, outcome and the rule that bound them',
    unit: '{decision}',
  });
  const nearLimit = new CountedSeries(meter, 'sluice.near_limit', {
    description: `Admissions that left their rule with more than ${nearLimitRatio} of its limit used`,
    unit: '{decision}',
  });
  const shadowRefusals = new CountedSeries(meter, 'sluice.shadow_refusals', {
    description: 'Refusals reported by a shadow rule or stage and not enforced',
    unit: '{decision}',
  });
  const storeDuration = meter.createHistogram('sluice.store.duration', {
    description: 'Duration of one store call (one Lua script call on Redis, one step in memory)',
    unit: 's',
    advice: { explicitBucketBoundaries: STORE_DURATION_BUCKETS },
  });
  const fallbackTransitions = meter.createCounter('sluice.fallback.transitions', {
    description: 'The local fallback starting (state=start) or stopping (state=stop)',
    unit: '{transition}',
  });
  const fallbackActive = meter.createUpDownCounter('sluice.fallback.active', {
    description: 'Stores deciding on their local fallback now',
    unit: '{store}',
  });

  const onDecision = (raw: unknown): void => {
    const message = raw as DecisionMessage;
    const { engine, outcome, shadow, local, fromCache } = message;
    // Bounded first, so that the keys (and the series) are bounded too.
    const rule = message.rule === undefined ? undefined : rules.bound(message.rule);
    const reason = message.reason === undefined ? undefined : reasons.bound(message.reason);
    const category =
      message.category === undefined ? undefined : categories.bound(message.category);
    const project =
      projectAttribute && message.project !== undefined ? String(message.project.id) : undefined;
    const ruleKey = `${engine}|${rule}|${reason}|${category}|${local}|${project}`;
    const ruleAttributes = (): Attributes => {
      const attributes: Attributes = { engine };
      if (rule !== undefined) attributes.rule = rule;
      if (reason !== undefined) attributes.reason = reason;
      if (category !== undefined) attributes.category = category;
      attributes.local = local;
      if (project !== undefined) attributes.project = project;
      return attributes;
    };
    decisions.add(`${ruleKey}|${outcome}|${shadow}|${fromCache}`, () => ({
      ...ruleAttributes(),
      outcome,
      shadow,
      from_cache: fromCache,
    }));
    if (outcome === 'shadow_refused') shadowRefusals.add(ruleKey, ruleAttributes);
    else if (outcome === 'admitted' && isNearLimit(message, nearLimitRatio)) {
      nearLimit.add(ruleKey, ruleAttributes);
    }
  };
  /** The attributes of each kind of store call, made once: recording allocates none. */
  const callAttributes = new Map<string, Attributes>();
  const onStoreCall = (raw: unknown): void => {
    const call = raw as StoreCallMessage;
    const operation = operations.bound(call.operation);
    const failure = call.error === undefined ? undefined : errorTypes.bound(errorType(call.error));
    const key = `${call.store}|${operation}|${failure}`;
    let attributes = callAttributes.get(key);
    if (attributes === undefined) {
      attributes = { store: call.store, operation };
      if (failure !== undefined) attributes['error.type'] = failure;
      callAttributes.set(key, attributes);
    }
    storeDuration.record(call.durationMs / 1000, attributes);
  };
  const onFallback = (raw: unknown): void => {
    // Read defensively: another copy of sluice may publish on the channel too.
    const state = (raw as Partial<FallbackMessage> | null)?.state as unknown;
    if (state !== 'start' && state !== 'stop') return;
    fallbackTransitions.add(1, { state });
    fallbackActive.add(state === 'start' ? 1 : -1);
  };

  subscribe(DECISION_CHANNEL, onDecision);
  subscribe(STORE_CHANNEL, onStoreCall);
  subscribe(FALLBACK_CHANNEL, onFallback);
  let stopped = false;
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      unsubscribe(DECISION_CHANNEL, onDecision);
      unsubscribe(STORE_CHANNEL, onStoreCall);
      unsubscribe(FALLBACK_CHANNEL, onFallback);
    },
  };
}

/** An admission whose bound rule has used more than `ratio` of its limit. */
function isNearLimit(message: DecisionMessage, ratio: number): boolean {
  const { limit, remaining } = message;
  if (limit === undefined || remaining === undefined || !(limit > 0)) return false;
  return limit - remaining > ratio * limit;
}

/** `timeout` for a store call that missed its deadline, else the error's name. */
function errorType(error: unknown): string {
  if (error === null || typeof error !== 'object') return typeof error;
  if ((error as { timedOut?: unknown }).timedOut === true) return 'timeout';
  const { name } = error as { name?: unknown };
  return typeof name === 'string' && name !== '' ? name : 'Error';
}
