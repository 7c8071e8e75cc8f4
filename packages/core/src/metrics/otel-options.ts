import type { Meter, MeterProvider } from '@opentelemetry/api';
import { InvalidConfiguration } from '../errors.js';
import { integerAtLeast, optionalBoolean, optionsObject } from '../validate.js';

/**
 * Share of a limit past which an admitted decision counts in `sluice.near_limit`, as Envoy's
 * ratelimit service counts `near_limit` past 80 %.
 *
 * @example
 * ```ts
 * sluiceMetrics({ nearLimitRatio: DEFAULT_NEAR_LIMIT_RATIO }); // the default
 * ```
 */
export const DEFAULT_NEAR_LIMIT_RATIO = 0.8;

/**
 * Most distinct values each attribute (rule, reason, category, operation, error type) takes
 * before further new values are counted as `_other`.
 *
 * @example
 * ```ts
 * sluiceMetrics({ maxAttributeValues: DEFAULT_MAX_ATTRIBUTE_VALUES * 2 });
 * ```
 */
export const DEFAULT_MAX_ATTRIBUTE_VALUES = 100;

/**
 * Options of `sluiceMetrics`.
 *
 * @example
 * ```ts
 * const options: SluiceMetricsOptions = { meterProvider, nearLimitRatio: 0.9 };
 * ```
 */
export interface SluiceMetricsOptions {
  /** The meter to create the instruments on. @default meterProvider's `@sluice/core` meter */
  meter?: Meter;
  /**
   * Where to get the meter from, when `meter` is not given.
   * @default the global provider (`metrics.getMeterProvider()` of `@opentelemetry/api`)
   */
  meterProvider?: MeterProvider;
  /**
   * Adds the `project` attribute (the project's id) to the decision counters. Every project
   * then makes its own series: turn it on only with few projects.
   * @default false
   */
  projectAttribute?: boolean;
  /**
   * An admission counts in `sluice.near_limit` when the bound rule has used more than this share
   * of its limit: a number greater than 0 and below 1.
   * @default 0.8
   */
  nearLimitRatio?: number;
  /**
   * Most distinct values of each attribute other than `project`; later new values become
   * `_other`. An integer of 1 or more.
   * @default 100
   */
  maxAttributeValues?: number;
}

/**
 * The options of `sluiceMetrics`, validated, with their defaults.
 *
 * @example
 * ```ts
 * const { meter, nearLimitRatio } = resolveMetricsOptions({}, () => metrics.getMeterProvider());
 * ```
 */
export interface ResolvedMetricsOptions {
  readonly meter: Meter;
  readonly projectAttribute: boolean;
  readonly nearLimitRatio: number;
  readonly maxAttributeValues: number;
}

/** Name of the meter the bridge creates when given a provider. */
const METER_NAME = '@sluice/core';

const KNOWN: readonly (keyof SluiceMetricsOptions)[] = [
  'meter',
  'meterProvider',
  'projectAttribute',
  'nearLimitRatio',
  'maxAttributeValues',
];

/**
 * Validates the options of `sluiceMetrics` once and resolves their defaults; throws
 * {@link InvalidConfiguration} naming the first bad one. `globalProvider` gives the provider
 * when neither `meter` nor `meterProvider` is set.
 *
 * @example
 * ```ts
 * resolveMetricsOptions({ nearLimitRatio: 80 }, () => provider); // throws naming `nearLimitRatio`
 * ```
 */
export function resolveMetricsOptions(
  options: SluiceMetricsOptions | undefined,
  globalProvider: () => MeterProvider,
): ResolvedMetricsOptions {
  const o = optionsObject('options', options, KNOWN);
  if (o.meter !== undefined && o.meterProvider !== undefined) {
    throw new InvalidConfiguration(
      'meterProvider',
      o.meterProvider,
      'nothing when `meter` is given (give one of the two)',
    );
  }
  let meter: Meter;
  if (o.meter !== undefined) {
    if (!hasMethods(o.meter, ['createCounter', 'createHistogram', 'createUpDownCounter'])) {
      throw new InvalidConfiguration('meter', o.meter, 'an OpenTelemetry Meter');
    }
    meter = o.meter;
  } else {
    const provider = o.meterProvider ?? globalProvider();
    if (!hasMethods(provider, ['getMeter'])) {
      throw new InvalidConfiguration('meterProvider', provider, 'an OpenTelemetry MeterProvider');
    }
    meter = provider.getMeter(METER_NAME);
  }
  const ratio = o.nearLimitRatio ?? DEFAULT_NEAR_LIMIT_RATIO;
  if (typeof ratio !== 'number' || !(ratio > 0 && ratio < 1)) {
    throw new InvalidConfiguration('nearLimitRatio', ratio, 'a number greater than 0 and below 1');
  }
  return {
    meter,
    projectAttribute: optionalBoolean('projectAttribute', o.projectAttribute) ?? false,
    nearLimitRatio: ratio,
    maxAttributeValues: integerAtLeast(
      'maxAttributeValues',
      o.maxAttributeValues ?? DEFAULT_MAX_ATTRIBUTE_VALUES,
      1,
    ),
  };
}

function hasMethods(value: unknown, methods: readonly string[]): boolean {
  if (value === null || typeof value !== 'object') return false;
  const object = value as Record<string, unknown>;
  return methods.every((method) => typeof object[method] === 'function');
}
