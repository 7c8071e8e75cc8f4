import type { MemoryState, Reply } from './store.js';

/**
 * The typed operation protocol: one definition per atomic step gives its argument encoding, its
 * Lua, its memory step and its reply decoding, so `tsc` checks both ends and no positional cast
 * sits between an engine and a store. The engine passes typed arguments `A` and receives a typed
 * result `R`; only `encode` and the Lua read ARGV by position, side by side in one file.
 */

/** One value of KEYS or ARGV as it travels to Redis. */
export type Arg = string | number;

/**
 * One atomic operation of an engine, typed at both ends.
 *
 * - `encode` appends the call's KEYS and ARGV, the positions the Lua reads; it runs when the
 *   call is made, before it joins a batch, so a call it refuses fails alone.
 * - `lua` is the body of a Lua function `function(keys, argv, now)` returning the reply, where
 *   `now` is the decision time in milliseconds (the call's timestamp, or Redis `TIME`).
 * - `memory` is the same step on a {@link MemoryState}, reading the typed arguments: it returns
 *   exactly what the Lua function returns, integers truncated as Redis truncates them.
 * - `decode` reads that reply, checked (see `reply-reader.ts`), into the typed result; it gets the
 *   call's arguments too, so it can check the reply's length against them and answer in their
 *   terms.
 *
 * @example
 * ```ts
 * const countOperation = defineOperation<{ key: string }, number>({
 *   name: 'sluice_concurrency_count',
 *   encode: ({ key }, keys) => { keys.push(key); },
 *   lua: `return redis.call('ZCOUNT', keys[1], '(' .. math.floor(now), '+inf')`,
 *   memory: (state, { key }, now) => countLive(state, key, Math.floor(now)),
 *   decode: (reply) => readInteger('sluice_concurrency_count', reply),
 * });
 * ```
 */
export interface Operation<A, R> {
  /** Namespaced name, unique per operation, e.g. `sluice_quotas_decide`. */
  readonly name: string;
  /** Appends the call's keys to `keys` and its arguments to `argv`, as the Lua reads them. */
  encode(args: A, keys: string[], argv: Arg[]): void;
  /** Body of `function(keys, argv, now) ... end`. */
  readonly lua: string;
  /** The same step in memory, on the typed arguments. */
  memory(state: MemoryState, args: A, now: number): Reply;
  /**
   * The typed result of the reply to the call made with `args`; throws `StoreUnavailableError`
   * on a reply of another shape.
   */
  decode(reply: Reply, args: A): R;
}

/** Operation names: `sluice_` and lower-case words, so they never collide on a shared client. */
const NAME = /^sluice_[a-z0-9_]+$/;

/**
 * Checks and freezes an operation definition; the type parameters tie its four parts together.
 *
 * @example
 * ```ts
 * export const resetOperation = defineOperation<{ key: string }, number>({ name: 'sluice_concurrency_reset', ... });
 * ```
 */
export function defineOperation<A, R>(operation: Operation<A, R>): Operation<A, R> {
  if (!NAME.test(operation.name)) {
    throw new Error(`operation name ${JSON.stringify(operation.name)} is not sluice_<words>`);
  }
  return Object.freeze(operation);
}

/**
 * The arguments of a {@link positionalOperation}: KEYS and ARGV as they are.
 *
 * @example
 * ```ts
 * const call: StoreCall = { keys: ['sluice:k'], args: [1] };
 * ```
 */
export interface StoreCall {
  /** Every key the call touches; all share one hash tag. */
  readonly keys: readonly string[];
  /** Arguments, as the Lua function receives them in `argv`. */
  readonly args: readonly Arg[];
}

/**
 * An operation whose arguments are KEYS and ARGV as they are and whose result is the raw reply:
 * for tests and tools that need a one-off script; engines define typed operations instead.
 *
 * @example
 * ```ts
 * const pttl = positionalOperation({ name: 'sluice_test_pttl',
 *   lua: `return redis.call('PTTL', keys[1])`, memory: (state, keys) => state.ttl(keys[0]!) });
 * await store.run(pttl, { keys: ['sluice:k'], args: [] });
 * ```
 */
export function positionalOperation(definition: {
  name: string;
  lua: string;
  memory(state: MemoryState, keys: readonly string[], args: readonly Arg[], now: number): Reply;
}): Operation<StoreCall, Reply> {
  const { memory } = definition;
  return defineOperation<StoreCall, Reply>({
    name: definition.name,
    lua: definition.lua,
    encode({ keys, args }, keysOut, argv) {
      for (const key of keys) keysOut.push(key);
      for (const arg of args) argv.push(arg);
    },
    memory: (state, { keys, args }, now) => memory(state, keys, args, now),
    decode: (reply) => reply,
  });
}
