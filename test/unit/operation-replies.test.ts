// Replies of another shape than an operation documents (a script of another version, a proxy
// that rewrote them) fail the call with StoreUnavailableError naming the operation, on every
// engine, instead of a NaN or undefined deciding a request. The client is a test double with
// the two calls RedisStore makes, which is all its ScriptClient surface asks for.
import {
  ConcurrencyLimiter,
  Quota,
  Quotas,
  SlidingWindowRateLimiter,
  StoreUnavailableError,
} from '@sluice/core';
import { RedisStore, type ScriptClient } from '@sluice/core/redis';
import { describe, expect, it } from 'vitest';

/** A store whose every batch is answered `reply` (INFO answers nothing: no memory policy). */
function storeAnswering(reply: unknown): RedisStore {
  const client: ScriptClient = {
    evalsha: async () => reply,
    eval: async (source) => (source.includes("'INFO'") ? '' : reply),
  };
  return new RedisStore(client, { timeoutMs: 1000 });
}

const project = { id: 1, organizationId: 7 };
const getQuotas = () => [
  { id: 'p', scope: 'project' as const, limit: 10, windowSeconds: 60, reasonCode: 'p' },
  { id: 'o', scope: 'organization' as const, limit: 100, windowSeconds: 60, reasonCode: 'o' },
];

async function failure(call: Promise<unknown>): Promise<StoreUnavailableError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StoreUnavailableError);
  return error as StoreUnavailableError;
}

describe('a reply of another shape fails the call with StoreUnavailableError', () => {
  it('quotas decide: one usage missing for two quotas', async () => {
    const quotas = new Quotas({
      store: storeAnswering([[1_700_000_000_000_000, 1, 3]]),
      getQuotas,
    });
    const error = await failure(quotas.isRateLimited(project));
    expect(error.message).toMatch(
      /sluice_quotas_decide answered an array of 3, expected exactly 4/,
    );
    expect(error.timedOut).toBe(false);
  });

  it('quotas decide: a string where a usage belongs', async () => {
    const quotas = new Quotas({
      store: storeAnswering([[1_700_000_000_000_000, 1, 3, 'x']]),
      getQuotas,
    });
    await failure(quotas.isRateLimited(project));
  });

  it('quotas usage and reset: a count per counter, no fewer', async () => {
    const quotas = new Quotas({ store: storeAnswering([[5]]), getQuotas });
    expect((await failure(quotas.getUsage(project))).message).toMatch(/sluice_quotas_usage/);
    const reset = new Quotas({ store: storeAnswering([[]]), getQuotas });
    expect((await failure(reset.reset(project))).message).toMatch(/sluice_quotas_reset/);
  });

  it('a batch reply that is not an array fails each of its calls', async () => {
    const quotas = new Quotas({ store: storeAnswering('OK'), getQuotas });
    expect((await failure(quotas.isRateLimited(project))).message).toMatch(
      /sluice_quotas_decide answered null/,
    );
  });

  it('concurrency acquire: four integers or nothing', async () => {
    const limiter = new ConcurrencyLimiter(storeAnswering([[1, 1, 0]]), { limit: 2 });
    expect((await failure(limiter.acquire('k'))).message).toMatch(/sluice_concurrency_acquire/);
  });

  it('sliding-window decide: each request answers its granted units and two values per quota', async () => {
    const limiter = new SlidingWindowRateLimiter(storeAnswering([[1_700_000_000_000_000, [1, 4]]]));
    const quotas = [new Quota({ windowSeconds: 60, granularitySeconds: 1, limit: 5 })];
    const error = await failure(limiter.checkAndUseQuotas([{ prefix: 'a', requested: 1, quotas }]));
    expect(error.message).toMatch(/sluice_sliding_window_decide answered an array of 2/);
  });

  it('well-shaped replies decode into the typed results', async () => {
    const quotas = new Quotas({
      store: storeAnswering([[1_700_000_000_000_000, 0, 10, 3]]),
      getQuotas,
    });
    const result = await quotas.isRateLimited(project);
    expect(result.isLimited).toBe(true);
    const limiter = new ConcurrencyLimiter(storeAnswering([[1, 2, 0, 0]]), { limit: 2 });
    const inFlight: number[] = [];
    limiter.events.on('acquired', (event) => inFlight.push(event.inFlight));
    expect((await limiter.acquire('k'))?.key).toBe('k');
    expect(inFlight).toEqual([2]);
  });
});
