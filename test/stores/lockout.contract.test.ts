// Lockout with backoff (issue 16 §3) on every store: refusals within a sliding period start a
// block, repeat offences lengthen it, the offences are forgotten, a reset lifts it, and a
// process that saw a block answers it without a store call.
import { InvalidConfiguration, Lockout, type LockoutOptions } from '@sluice/core';
import { countingStore } from '@sluice/test-support/projects';
import { STORE_KINDS, useStore } from '@sluice/test-support/stores';
import { describe, expect, it } from 'vitest';

/** Decision times start here (seconds), far from the real clock: the store must not care. */
const T = 1_000;

const OPTIONS: LockoutOptions = { after: 3, withinSeconds: 10, blockSeconds: 5 };

describe.each(STORE_KINDS)('Lockout on %s', (kind) => {
  const harness = useStore(kind);
  const lockout = (options: LockoutOptions = OPTIONS) => new Lockout(harness.store(), options);

  it('the third refusal within 10 s blocks for 5 s; the first two only count', async () => {
    const l = lockout();
    expect(await l.recordRefusal('k', { timestamp: T })).toEqual({
      blocked: false,
      retryAfter: 0,
      offences: 0,
      refusals: 1,
      started: false,
    });
    expect((await l.recordRefusal('k', { timestamp: T + 4 })).refusals).toBe(2);
    expect(await l.recordRefusal('k', { timestamp: T + 9.5 })).toEqual({
      blocked: true,
      retryAfter: 5,
      offences: 1,
      refusals: 3,
      started: true,
    });
    expect(await l.blocked('k', { timestamp: T + 12 })).toBe(2.5);
    expect(await l.blocked('k', { timestamp: T + 14.5 })).toBe(0);
    expect(await l.blocked('other', { timestamp: T + 12 })).toBe(0);
  });

  it('the period slides: refusals older than withinSeconds no longer count', async () => {
    const l = lockout();
    await l.recordRefusal('k', { timestamp: T });
    await l.recordRefusal('k', { timestamp: T + 5 });
    // T has left the period (T + 10 - 10, T + 10]: two refusals in it.
    expect(await l.recordRefusal('k', { timestamp: T + 10 })).toMatchObject({
      blocked: false,
      refusals: 2,
    });
    expect(await l.recordRefusal('k', { timestamp: T + 11 })).toMatchObject({
      blocked: true,
      refusals: 3,
      retryAfter: 5,
    });
  });

  it('a blocked key counts nothing: the answer says how long it still is blocked', async () => {
    const l = lockout();
    for (const t of [T, T + 1, T + 2]) await l.recordRefusal('k', { timestamp: t });
    const during = await Promise.all(
      [T + 3, T + 4, T + 6.9].map((t) => l.recordRefusal('k', { timestamp: t })),
    );
    expect(during.map((s) => [s.retryAfter, s.refusals, s.started, s.offences])).toEqual([
      [4, 0, false, 1],
      [3, 0, false, 1],
      [0.1, 0, false, 1],
    ]);
    // Once it ends, counting starts again from nothing.
    expect(await l.inspect('k', { timestamp: T + 7 })).toMatchObject({
      blocked: false,
      offences: 1,
      refusals: 0,
    });
    expect((await l.recordRefusal('k', { timestamp: T + 7 })).refusals).toBe(1);
  });

  it('backoff 2 doubles each repeat block up to maxBlockSeconds; forgetSeconds resets it', async () => {
    const l = lockout({ ...OPTIONS, backoff: 2, maxBlockSeconds: 18, forgetSeconds: 100 });
    let t = T;
    const blocks: number[] = [];
    for (let offence = 0; offence < 5; offence++) {
      let state = await l.recordRefusal('k', { timestamp: t });
      state = await l.recordRefusal('k', { timestamp: t });
      state = await l.recordRefusal('k', { timestamp: t });
      expect(state).toMatchObject({ started: true, offences: offence + 1 });
      blocks.push(state.retryAfter);
      t += state.retryAfter;
    }
    expect(blocks).toEqual([5, 10, 18, 18, 18]);
    // 100 s after the last block ended, the offences are forgotten: a first block again.
    t += 100;
    expect(await l.inspect('k', { timestamp: t })).toMatchObject({ blocked: false, offences: 0 });
    for (let i = 0; i < 3; i++) await l.recordRefusal('k', { timestamp: t });
    expect(await l.inspect('k', { timestamp: t })).toMatchObject({ retryAfter: 5, offences: 1 });
  });

  it('a backoff of 1.5 rounds each block up to a whole millisecond', async () => {
    const l = lockout({ after: 1, withinSeconds: 1, blockSeconds: 0.001, backoff: 1.5 });
    let ms = T * 1000;
    const blocks: number[] = [];
    for (let i = 0; i < 4; i++) {
      const state = await l.recordRefusal('k', { timestamp: ms / 1000 });
      blocks.push(Math.round(state.retryAfter * 1000));
      ms += blocks.at(-1)!;
    }
    expect(blocks).toEqual([1, 2, 3, 5]);
  });

  it('reset lifts the block and forgets offences and refusals, here and in the store', async () => {
    const store = harness.store();
    const l = new Lockout(store, { ...OPTIONS, backoff: 2 });
    for (let i = 0; i < 3; i++) await l.recordRefusal('k');
    expect(await l.blocked('k')).toBeGreaterThan(4);
    expect(await l.reset('k')).toBe(true);
    expect(await l.blocked('k')).toBe(0);
    expect(await l.inspect('k')).toMatchObject({ offences: 0, refusals: 0 });
    expect(await harness.keyCount(store)).toBe(0);
    expect(await l.reset('k')).toBe(false);
    // Offences forgotten: the next block is a first one.
    for (let i = 0; i < 3; i++) await l.recordRefusal('k');
    expect((await l.inspect('k')).offences).toBe(1);
  });

  it('keys expire: refusals withinSeconds after the latest, a block forgetSeconds after its end', async () => {
    const store = harness.store();
    const l = new Lockout(store, { ...OPTIONS, forgetSeconds: 50 });
    const keys = {
      block: `${store.prefix}:lockout:{k}`,
      refusals: `${store.prefix}:lockout:{k}:refusals`,
    };
    await l.recordRefusal('k', { timestamp: T });
    await l.recordRefusal('k', { timestamp: T + 2 });
    expect(await harness.pttl(store, keys.refusals)).toBeGreaterThan(9_000);
    expect(await harness.pttl(store, keys.refusals)).toBeLessThanOrEqual(10_000);
    await l.recordRefusal('k', { timestamp: T + 3 });
    expect(await harness.pttl(store, keys.refusals)).toBeLessThan(0);
    expect(await harness.pttl(store, keys.block)).toBeGreaterThan(54_000);
    expect(await harness.pttl(store, keys.block)).toBeLessThanOrEqual(55_000);
  });

  it('keys of any text, hash-tag braces included, stay apart and in one hash slot', async () => {
    const l = lockout({ ...OPTIONS, after: 1 });
    await l.recordRefusal('a{b}:c');
    expect(await l.blocked('a{b}:c')).toBeGreaterThan(0);
    expect(await l.blocked('a{b}')).toBe(0);
    expect(await l.blocked('a%007bb%007d:c')).toBe(0);
  });

  it('every process honours a block; the one that saw it answers from memory, no store call', async () => {
    const store = countingStore(harness.store());
    const seen = new Lockout(store, OPTIONS);
    const other = new Lockout(store, OPTIONS);
    for (let i = 0; i < 3; i++) await seen.recordRefusal('k');
    const calls = store.calls;
    for (let i = 0; i < 100; i++) expect(await seen.blocked('k')).toBeGreaterThan(4);
    expect(store.calls - calls).toBe(0);
    expect(await other.blocked('k')).toBeGreaterThan(4);
    expect(store.calls - calls).toBe(1);
    // Now the other process knows it too.
    await other.blocked('k');
    expect(store.calls - calls).toBe(1);
  });
});

describe('Lockout options', () => {
  const store = { prefix: 's', clustered: false, run: async () => 0 } as never;
  it.each([
    [{ ...OPTIONS, after: 0 }, 'after'],
    [{ ...OPTIONS, after: 1001 }, 'after'],
    [{ ...OPTIONS, after: 1.5 }, 'after'],
    [{ ...OPTIONS, withinSeconds: 0 }, 'withinSeconds'],
    [{ ...OPTIONS, blockSeconds: -1 }, 'blockSeconds'],
    [{ ...OPTIONS, blockSeconds: '5' }, 'blockSeconds'],
    [{ ...OPTIONS, backoff: 0.5 }, 'backoff'],
    [{ ...OPTIONS, backoff: Number.NaN }, 'backoff'],
    [{ ...OPTIONS, maxBlockSeconds: 4 }, 'maxBlockSeconds'],
    [{ ...OPTIONS, forgetSeconds: 0 }, 'forgetSeconds'],
    [{ ...OPTIONS, blockDuration: 5 }, 'blockDuration'],
    [{ after: 3, withinSeconds: 10 }, 'blockSeconds'],
  ])('%o throws InvalidConfiguration naming %s', (options, option) => {
    const error = (() => {
      try {
        new Lockout(store, options as LockoutOptions);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(InvalidConfiguration);
    expect((error as InvalidConfiguration).option).toBe(option);
  });

  it('a bad key or call option rejects the call', async () => {
    const l = new Lockout(store, OPTIONS);
    await expect(l.recordRefusal('')).rejects.toMatchObject({ option: 'key' });
    await expect(l.blocked('k', { timestamp: Date.now() })).rejects.toMatchObject({
      option: 'timestamp',
    });
    await expect(l.inspect('k', { at: 1 } as never)).rejects.toMatchObject({ option: 'at' });
  });

  it('the defaults: no backoff, a day at most, offences forgotten a day after', () => {
    expect(new Lockout(store, OPTIONS).options).toEqual({
      after: 3,
      withinMs: 10_000,
      blockMs: 5_000,
      backoff: 1,
      maxBlockMs: 86_400_000,
      forgetMs: 86_400_000,
    });
  });
});
