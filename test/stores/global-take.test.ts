import { STORE_KINDS, useStore } from '@sluice/test-support/stores';
import { describe, expect, it } from 'vitest';
// White-box: the operation itself, which the package does not export.
import type { CounterKey } from '../../packages/core/src/quotas/counter-keys.js';
import {
  type GlobalTakeArgs,
  globalTakeOperation,
} from '../../packages/core/src/quotas/global-take.js';

/**
 * The take step of global quotas, called directly with explicit timestamps, on every store:
 * the Lua and the memory step must give the same replies, including the
 * branch a store clock ahead of the engine's takes (a take that finds a later window than the
 * units the engine held, which needs the whole quantity).
 */

/** A 60 s window (aligned on the epoch) starts at T0. */
const T0 = 1_700_000_040;
const W = T0 / 60;

describe.each(STORE_KINDS)('sluice_quotas_global_take on %s', (kind) => {
  const harness = useStore(kind);

  it('grants all or nothing of the need, a quarter of the headroom at most, the whole quantity in a new window', async () => {
    const store = harness.store();
    const counter: CounterKey = {
      base: `${store.prefix}:global:{g}:60`,
      windowSeconds: 60,
      shift: 0,
    };
    const take = (args: Omit<GlobalTakeArgs, 'counter' | 'graceSeconds'>, t: number) =>
      store.run(globalTakeOperation, { counter, graceSeconds: 60, ...args }, t * 1000);
    const at = (t: number, windowIndex: number, granted: number, count: number) => ({
      nowMicros: t * 1e6,
      windowIndex,
      granted,
      counter: count,
    });
    // Headroom 100: a quarter (25) of it, though 50 are wanted.
    expect(
      await take({ limit: 100, need: 1, want: 50, quantity: 1, expectedWindow: -1 }, T0),
    ).toEqual(at(T0, W, 25, 25));
    // Headroom 75: 10 wanted, 10 granted.
    expect(
      await take({ limit: 100, need: 2, want: 10, quantity: 2, expectedWindow: W }, T0 + 1),
    ).toEqual(at(T0 + 1, W, 10, 35));
    // A need beyond the headroom (65) gets nothing: the counter stays.
    expect(
      await take({ limit: 100, need: 66, want: 66, quantity: 66, expectedWindow: W }, T0 + 2),
    ).toEqual(at(T0 + 2, W, 0, 35));
    // A need of exactly the headroom gets it, though it is more than a quarter.
    expect(
      await take({ limit: 100, need: 65, want: 1, quantity: 65, expectedWindow: W }, T0 + 3),
    ).toEqual(at(T0 + 3, W, 65, 100));
    // Check-only (need 0) reads the counter and takes nothing.
    expect(
      await take({ limit: 100, need: 0, want: 0, quantity: 0, expectedWindow: W }, T0 + 4),
    ).toEqual(at(T0 + 4, W, 0, 100));
    // The engine held units of window W and needs 1 more of 5; the store is in window W + 1,
    // where those units are void: it needs all 5.
    expect(
      await take({ limit: 100, need: 1, want: 1, quantity: 5, expectedWindow: W }, T0 + 60),
    ).toEqual(at(T0 + 60, W + 1, 5, 5));
    // Unlimited (-1): the wanted slice, counted.
    expect(
      await take({ limit: -1, need: 1, want: 500, quantity: 1, expectedWindow: W + 1 }, T0 + 61),
    ).toEqual(at(T0 + 61, W + 1, 500, 505));
  });
});
