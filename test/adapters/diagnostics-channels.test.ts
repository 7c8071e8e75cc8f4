// Metrics people can read (issue 14 §2) through real frameworks: a request publishes one
// sluice:decision message per engine decision (the engines publish; the HTTP layer only tells
// them the stage's shadow state, project and category), never a second one for the same
// decision; a store failure adds one store_failure decision saying what onStoreError did.
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { DECISION_CHANNEL, type DecisionMessage, Quota } from '@sluice/core';
import { sluiceMetrics } from '@sluice/core/opentelemetry';
import { RedisStore } from '@sluice/core/redis';
import { recordChannel } from '@sluice/test-support/channels';
import { FRAMEWORKS, type TestApp } from '@sluice/test-support/frameworks';
import {
  frozenStore,
  hourly,
  PROJECTS,
  resolveProject,
  sentryAuth,
} from '@sluice/test-support/projects';
import { freePort } from '@sluice/test-support/redis';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';

const auth = sentryAuth(PROJECTS.one.key);

/** A reader that exports nothing: the test collects from it. */
class CollectingReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}
const project = { id: PROJECTS.one.id, organizationId: PROJECTS.one.organizationId };

/** What a test compares of a message: its engine, outcome, rule and shadow flag. */
const summary = (m: DecisionMessage) =>
  `${m.engine} ${m.outcome} ${m.rule ?? '-'} ${m.reason ?? '-'}${m.shadow ? ' (shadow)' : ''}`;

describe.each(FRAMEWORKS.filter((f) => f.name === 'express 5' || f.name === 'fastify 5'))(
  'diagnostics channels through $name',
  (framework) => {
    let app: TestApp | undefined;
    let decisions: ReturnType<typeof recordChannel<DecisionMessage>> | undefined;
    afterEach(async () => {
      decisions?.stop();
      await app?.close();
      app = undefined;
    });
    const get = () => app!.request({ path: '/api/1/store/', headers: auth });

    it('one message per engine decision: concurrency, quotas, then windows', async () => {
      app = await framework.build({
        options: {
          store: frozenStore(),
          resolveProject,
          category: 'error',
          quotas: [hourly(1)],
          windows: {
            prefix: (_req, p) => `p${p.id}`,
            quotas: [new Quota({ windowSeconds: 60, granularitySeconds: 10, limit: 5 })],
          },
          concurrency: { limit: 2 },
        },
      });
      decisions = recordChannel<DecisionMessage>(DECISION_CHANNEL);
      expect((await get()).status).toBe(200);
      expect((await get()).status).toBe(429);
      expect(decisions.messages.map(summary)).toEqual([
        'concurrency admitted concurrency concurrency_limit',
        'quota admitted p project_quota',
        'window admitted window_60s sliding_window',
        'concurrency admitted concurrency concurrency_limit',
        // The quota refused: the window was never asked.
        'quota refused p project_quota',
      ]);
      for (const message of decisions.messages) {
        expect(message.project).toEqual(project);
        expect(message.local).toBe(false);
        expect(message.category).toBe(message.engine === 'concurrency' ? undefined : 'error');
      }
      expect(decisions.messages[1]).toMatchObject({ limit: 1, remaining: 0 });
      expect(decisions.messages[2]).toMatchObject({ key: 'p1', limit: 5, remaining: 4 });
    });

    it('a stage in shadow mode: every refusal is a shadow_refused, and the request goes on', async () => {
      app = await framework.build({
        options: {
          store: frozenStore(),
          resolveProject,
          mode: 'shadow',
          quotas: [hourly(1)],
          concurrency: { limit: 1 },
        },
      });
      decisions = recordChannel<DecisionMessage>(DECISION_CHANNEL);
      expect((await get()).status).toBe(200);
      expect((await get()).status).toBe(200);
      expect(decisions.messages.map(summary)).toEqual([
        'concurrency admitted concurrency concurrency_limit (shadow)',
        'quota admitted p project_quota (shadow)',
        'concurrency admitted concurrency concurrency_limit (shadow)',
        'quota shadow_refused p project_quota (shadow)',
      ]);
    });

    it('with onStoreError local, the decisions made on the local store say so, at its share of the limit', async () => {
      const client = new Redis(`redis://127.0.0.1:${await freePort()}`, {
        maxRetriesPerRequest: 1,
        retryStrategy: () => 50,
      });
      client.on('error', () => undefined);
      try {
        app = await framework.build({
          options: {
            store: new RedisStore(client, { prefix: 'down-local', timeoutMs: 100 }),
            resolveProject,
            quotas: [hourly(4)],
            onStoreError: 'local',
            localShare: 0.5,
          },
        });
        decisions = recordChannel<DecisionMessage>(DECISION_CHANNEL);
        const reader = new CollectingReader();
        const provider = new MeterProvider({ readers: [reader] });
        const bridge = sluiceMetrics({ meterProvider: provider });
        const statuses = [(await get()).status, (await get()).status, (await get()).status];
        // The fallback's own sluice:fallback message, counted by the bridge.
        const { resourceMetrics } = await reader.collect();
        bridge.stop();
        await provider.shutdown();
        const points = new Map(
          resourceMetrics.scopeMetrics
            .flatMap((scope) => scope.metrics)
            .map((metric) => [metric.descriptor.name, metric.dataPoints]),
        );
        const transitions = points.get('sluice.fallback.transitions');
        expect(transitions?.map((p) => [p.attributes, p.value])).toEqual([[{ state: 'start' }, 1]]);
        expect(points.get('sluice.fallback.active')?.map((p) => p.value)).toEqual([1]);
        expect(statuses).toEqual([200, 200, 429]);
        // The failed call on Redis decided nothing; each request is one local quota decision.
        expect(decisions.messages.map(summary)).toEqual([
          'quota admitted p project_quota',
          'quota admitted p project_quota',
          'quota refused p project_quota',
        ]);
        expect(decisions.messages.map((m) => [m.local, m.limit, m.remaining])).toEqual([
          [true, 2, 1],
          [true, 2, 0],
          [true, 2, 0],
        ]);
      } finally {
        client.disconnect();
      }
    });

    it('a local concurrency limit scaled to 0 refuses with one decision message of its own', async () => {
      const client = new Redis(`redis://127.0.0.1:${await freePort()}`, {
        maxRetriesPerRequest: 1,
        retryStrategy: () => 50,
      });
      client.on('error', () => undefined);
      try {
        app = await framework.build({
          options: {
            store: new RedisStore(client, { prefix: 'down-slots', timeoutMs: 100 }),
            resolveProject,
            concurrency: { limit: 1 },
            onStoreError: 'local',
            localShare: 0.5,
          },
        });
        decisions = recordChannel<DecisionMessage>(DECISION_CHANNEL);
        expect((await get()).status).toBe(429);
        expect(decisions.messages.map(summary)).toEqual([
          'concurrency refused concurrency concurrency_limit',
        ]);
        expect(decisions.messages[0]).toMatchObject({ local: true, limit: 0, remaining: 0 });
      } finally {
        client.disconnect();
      }
    });

    it('a store failure is one store_failure decision per request, saying what onStoreError did', async () => {
      const client = new Redis(`redis://127.0.0.1:${await freePort()}`, {
        maxRetriesPerRequest: 1,
        retryStrategy: () => 50,
      });
      client.on('error', () => undefined);
      try {
        for (const onStoreError of ['deny', 'allow'] as const) {
          app = await framework.build({
            options: {
              store: new RedisStore(client, { prefix: `down-${onStoreError}`, timeoutMs: 100 }),
              resolveProject,
              quotas: [hourly(10)],
              onStoreError,
            },
          });
          decisions = recordChannel<DecisionMessage>(DECISION_CHANNEL);
          expect((await get()).status).toBe(onStoreError === 'deny' ? 503 : 200);
          expect(decisions.messages.map(summary)).toEqual([
            `store_failure ${onStoreError === 'deny' ? 'refused' : 'admitted'} - store_unavailable`,
          ]);
          decisions.stop();
          await app.close();
          app = undefined;
        }
      } finally {
        client.disconnect();
      }
    });
  },
);
