// The OpenTelemetry bridge (issue 14 §2) against the real SDK: a MeterProvider whose reader
// collects what the bridge counted from real engine decisions on a MemoryStore, and the
// Prometheus exporter's scrape text, as the README shows it.
import { channel } from 'node:diagnostics_channel';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { metrics } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import {
  type DataPoint,
  type Histogram,
  MeterProvider,
  MetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  ConcurrencyLimiter,
  DECISION_CHANNEL,
  InvalidConfiguration,
  MemoryStore,
  type Project,
  Quota,
  type QuotaConfig,
  Quotas,
  SlidingWindowRateLimiter,
} from '@sluice/core';
import { type SluiceMetrics, sluiceMetrics } from '@sluice/core/opentelemetry';
import { afterEach, describe, expect, it } from 'vitest';

/** A reader that exports nothing: the test collects from it when it wants to look. */
class CollectingReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** Every data point collected, by instrument name. */
async function collect(reader: MetricReader): Promise<Map<string, DataPoint<unknown>[]>> {
  const { resourceMetrics } = await reader.collect();
  const byName = new Map<string, DataPoint<unknown>[]>();
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) byName.set(metric.descriptor.name, metric.dataPoints);
  }
  return byName;
}

/** The points of `name` as `attributes -> value`, attributes sorted into one readable key. */
function sums(points: DataPoint<unknown>[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const point of points ?? []) {
    const key = Object.entries(point.attributes)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(' ');
    out[key] = point.value;
  }
  return out;
}

const project: Project = { id: 42, organizationId: 7 };
const T0 = 1_700_000_047;
const perHour = (limit: number, extra: Partial<QuotaConfig> = {}): QuotaConfig => ({
  id: 'p',
  scope: 'project',
  limit,
  windowSeconds: 3600,
  reasonCode: 'project_quota',
  ...extra,
});

describe('the OpenTelemetry bridge', () => {
  let bridge: SluiceMetrics | undefined;
  let provider: MeterProvider | undefined;
  afterEach(async () => {
    bridge?.stop();
    bridge = undefined;
    await provider?.shutdown();
    provider = undefined;
  });
  const start = (options: Parameters<typeof sluiceMetrics>[0] = {}) => {
    const reader = new CollectingReader();
    provider = new MeterProvider({ readers: [reader] });
    bridge = sluiceMetrics({ meterProvider: provider, ...options });
    return reader;
  };

  it('counts decisions by outcome and rule, near-limit admissions, shadow refusals and store latency', async () => {
    const reader = start();
    const store = new MemoryStore();
    const quotas = new Quotas({ store, getQuotas: () => [perHour(5)] });
    for (let i = 0; i < 6; i++) await quotas.isRateLimited(project, { timestamp: T0 });
    const watched = new Quotas({
      store,
      getQuotas: () => [perHour(1, { id: 'new', reasonCode: 'new_rule', shadow: true })],
    });
    for (let i = 0; i < 2; i++) {
      await watched.isRateLimited(project, { category: 'error', timestamp: T0 });
    }
    const windows = new SlidingWindowRateLimiter(store);
    const window = new Quota({ windowSeconds: 60, granularitySeconds: 10, limit: 1 });
    await windows.checkAndUseQuotas([{ prefix: 'org:7', requested: 2, quotas: [window] }], T0);
    const limiter = new ConcurrencyLimiter(store, { limit: 1 });
    const lease = await limiter.acquire('snuba');
    await lease!.release();

    const points = await collect(reader);
    const base = 'from_cache=false local=false';
    expect(sums(points.get('sluice.decisions'))).toEqual({
      // 5 admitted then refused: Envoy's within_limit and over_limit for one rule.
      [`engine=quota ${base} outcome=admitted reason=project_quota rule=p shadow=false`]: 5,
      [`engine=quota ${base} outcome=refused reason=project_quota rule=p shadow=false`]: 1,
      [`category=error engine=quota ${base} outcome=admitted shadow=false`]: 1,
      [`category=error engine=quota ${base} outcome=shadow_refused reason=new_rule rule=new shadow=true`]: 1,
      [`engine=window ${base} outcome=refused reason=sliding_window rule=window_60s shadow=false`]: 1,
      [`engine=concurrency ${base} outcome=admitted reason=concurrency_limit rule=concurrency shadow=false`]: 1,
    });
    // Past 80 % of the limit of 5: only the fifth admission (5 used); the concurrency lease
    // took the only place of 1.
    expect(sums(points.get('sluice.near_limit'))).toEqual({
      'engine=quota local=false reason=project_quota rule=p': 1,
      'engine=concurrency local=false reason=concurrency_limit rule=concurrency': 1,
    });
    expect(sums(points.get('sluice.shadow_refusals'))).toEqual({
      'category=error engine=quota local=false reason=new_rule rule=new': 1,
    });
    const latency = sums(points.get('sluice.store.duration')) as Record<string, Histogram>;
    // 8 quota decisions, 1 window decision, an acquire and a release.
    expect(Object.fromEntries(Object.entries(latency).map(([k, h]) => [k, h.count]))).toEqual({
      'operation=sluice_quotas_decide store=memory': 8,
      'operation=sluice_sliding_window_decide store=memory': 1,
      'operation=sluice_concurrency_acquire store=memory': 1,
      'operation=sluice_concurrency_release store=memory': 1,
    });
    // A memory step takes far below a second, and the buckets are in seconds.
    const decide = latency['operation=sluice_quotas_decide store=memory']!;
    expect(decide.max).toBeLessThan(1);
    expect(decide.buckets.boundaries[0]).toBe(0.00005);
  });

  it('adds the project id only when asked', async () => {
    const reader = start({ projectAttribute: true });
    const quotas = new Quotas({ store: new MemoryStore(), getQuotas: () => [perHour(5)] });
    await quotas.isRateLimited(project, { timestamp: T0 });
    const decisions = sums((await collect(reader)).get('sluice.decisions'));
    expect(Object.keys(decisions)).toEqual([
      'engine=quota from_cache=false local=false outcome=admitted project=42 reason=project_quota rule=p shadow=false',
    ]);
  });

  it('bounds every attribute to maxAttributeValues distinct values, the rest as _other', async () => {
    const reader = start({ maxAttributeValues: 2 });
    const quotas = new Quotas({ store: new MemoryStore(), getQuotas: () => [] });
    for (const category of ['a', 'b', 'c', 'd', 'a']) {
      await quotas.isRateLimited(project, { category, timestamp: T0 });
    }
    const decisions = sums((await collect(reader)).get('sluice.decisions'));
    const byCategory = Object.fromEntries(
      Object.entries(decisions).map(([key, value]) => [/category=(\S+)/.exec(key)![1], value]),
    );
    expect(byCategory).toEqual({ a: 2, b: 1, _other: 2 });
  });

  it('counts the local fallback starting and stopping from sluice:fallback', async () => {
    const reader = start();
    const fallback = channel('sluice:fallback');
    for (const state of ['start', 'stop', 'start']) fallback.publish({ state, error: new Error() });
    fallback.publish({ state: 'unknown' });
    const points = await collect(reader);
    expect(sums(points.get('sluice.fallback.transitions'))).toEqual({
      'state=start': 2,
      'state=stop': 1,
    });
    expect(sums(points.get('sluice.fallback.active'))).toEqual({ '': 1 });
  });

  it('stop() unsubscribes: the channels have no subscriber and nothing more is counted', async () => {
    const reader = start();
    const quotas = new Quotas({ store: new MemoryStore(), getQuotas: () => [perHour(5)] });
    await quotas.isRateLimited(project, { timestamp: T0 });
    expect(channel(DECISION_CHANNEL).hasSubscribers).toBe(true);
    bridge!.stop();
    bridge!.stop();
    expect(channel(DECISION_CHANNEL).hasSubscribers).toBe(false);
    await quotas.isRateLimited(project, { timestamp: T0 });
    const decisions = sums((await collect(reader)).get('sluice.decisions'));
    expect(Object.values(decisions)).toEqual([1]);
  });

  it('uses the global MeterProvider when given none', async () => {
    const reader = new CollectingReader();
    provider = new MeterProvider({ readers: [reader] });
    metrics.setGlobalMeterProvider(provider);
    try {
      bridge = sluiceMetrics();
      const quotas = new Quotas({ store: new MemoryStore(), getQuotas: () => [perHour(5)] });
      await quotas.isRateLimited(project, { timestamp: T0 });
      expect(Object.values(sums((await collect(reader)).get('sluice.decisions')))).toEqual([1]);
    } finally {
      metrics.disable();
    }
  });

  it.each([
    [{ meter: {} }, 'meter'],
    [{ meterProvider: { getMeter: 1 } }, 'meterProvider'],
    [
      { meter: new MeterProvider().getMeter('m'), meterProvider: new MeterProvider() },
      'meterProvider',
    ],
    [{ nearLimitRatio: 1 }, 'nearLimitRatio'],
    [{ nearLimitRatio: 80 }, 'nearLimitRatio'],
    [{ maxAttributeValues: 0 }, 'maxAttributeValues'],
    [{ projectAttribute: 'yes' }, 'projectAttribute'],
    [{ meterprovider: new MeterProvider() }, 'meterprovider'],
  ])('throws InvalidConfiguration naming the option for %o', (options, option) => {
    let thrown: unknown;
    try {
      sluiceMetrics(options as never);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidConfiguration);
    expect((thrown as InvalidConfiguration).option).toBe(option);
    expect(channel(DECISION_CHANNEL).hasSubscribers).toBe(false);
  });
});

describe('the bridge scraped by Prometheus (the README example)', () => {
  let server: Server | undefined;
  let bridge: SluiceMetrics | undefined;
  let provider: MeterProvider | undefined;
  afterEach(async () => {
    bridge?.stop();
    await provider?.shutdown();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  });

  it('serves Prometheus text with the counters and the latency histogram in seconds', async () => {
    // As the README does, but on a free port: the exporter's handler on our own server.
    const exporter = new PrometheusExporter({ preventServerStart: true });
    provider = new MeterProvider({ readers: [exporter] });
    bridge = sluiceMetrics({ meterProvider: provider });
    server = createServer((req, res) => exporter.getMetricsRequestHandler(req, res));
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const quotas = new Quotas({ store: new MemoryStore(), getQuotas: () => [perHour(1)] });
    await quotas.isRateLimited(project, { timestamp: T0 });
    await quotas.isRateLimited(project, { timestamp: T0 });
    const { port } = server.address() as AddressInfo;
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const line = (name: string, outcome: string) =>
      text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(`outcome="${outcome}"`));
    expect(line('sluice_decisions_total', 'admitted')).toMatch(/rule="p".* 1$/);
    expect(line('sluice_decisions_total', 'refused')).toMatch(/reason="project_quota".* 1$/);
    expect(text).toMatch(/^sluice_near_limit_total\{.*rule="p".*\} 1$/m);
    expect(text).toMatch(
      /^sluice_store_duration_count\{.*operation="sluice_quotas_decide".*\} 2$/m,
    );
  });
});
