import calculateSlot from 'cluster-key-slot';
import type { Cluster, Redis } from 'ioredis';
import { InvalidConfiguration, StoreUnavailableError } from '../errors.js';
import { integerAtLeast, positiveNumber } from '../validate.js';
import { type BatchScript, batchScript } from './batch-script.js';
import { isValidPrefix } from './key-parts.js';
import type { ScriptClient } from './script-client.js';
import type { Reply, Store, StoreCall, StoreOperation } from './store.js';

/** Default deadline of one store call, queueing and batching included. */
export const DEFAULT_TIMEOUT_MS = 200;
/** Default number of calls of one operation sent in one EVALSHA. */
export const DEFAULT_MAX_BATCH = 16;

/** The ioredis clients a {@link RedisStore} runs on: a single node or a Redis Cluster. */
export type RedisClient = Redis | Cluster;

/** Options of {@link RedisStore}. */
export interface RedisStoreOptions {
  /** Prefix of every key; must not contain `{` or `}`. @default 'sluice' */
  prefix?: string;
  /**
   * Deadline of one call in milliseconds, covering queueing, batching and the round trip; past
   * it the call rejects with `StoreUnavailableError` and the caller's failure policy applies.
   * @default 200
   */
  timeoutMs?: number;
  /**
   * Most calls of one operation (and, on a Cluster, one hash slot) sent in one EVALSHA. Calls
   * made in the same event-loop turn are batched; a batch is sent when full or on `setImmediate`.
   * @default 16
   */
  maxBatch?: number;
  /**
   * Once a call has missed its deadline, Redis is suspect: one call at a time goes through as a
   * probe and every other call fails at once (the caller's policy applies) instead of waiting
   * out the deadline and piling commands onto a hung server; the first answer ends it. On a
   * Cluster each hash slot is probed on its own. `false` makes every call wait its deadline.
   * @default true
   */
  failFast?: boolean;
}

interface Waiter {
  readonly call: StoreCall;
  readonly resolve: (reply: Reply) => void;
  readonly reject: (error: unknown) => void;
}

interface Batch {
  /** Where the batch goes: the hash slot on a Cluster, else one target. */
  readonly target: number;
  readonly script: BatchScript;
  readonly waiters: Waiter[];
  readonly timer: NodeJS.Timeout;
  settled: boolean;
}

/**
 * A store on Redis through ioredis (`Redis` or `Cluster`). Every operation is one Lua script
 * run by EVALSHA, never inside MULTI, reloaded when Redis answers NOSCRIPT; the calls made in one
 * event-loop turn are sent together in one EVALSHA per operation (and per hash slot on a
 * Cluster). Every call is bounded by `timeoutMs`, so a hung or dead Redis costs at most that.
 *
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * import { RedisStore } from '@sluice/core/redis';
 * const store = new RedisStore(new Redis(process.env.REDIS_URL), { timeoutMs: 100 });
 * ```
 */
export class RedisStore implements Store {
  /** Prefix of every key. */
  readonly prefix: string;
  /** Deadline of one call in milliseconds. */
  readonly timeoutMs: number;
  /** Most calls in one EVALSHA. */
  readonly maxBatch: number;
  /** The client: ioredis's, or node-redis's through `nodeRedisClient`. */
  readonly client: RedisClient | ScriptClient;
  /** True on a Redis Cluster: one call keeps to the keys of one hash slot. */
  readonly clustered: boolean;

  readonly #scripts = new WeakMap<StoreOperation, BatchScript>();
  readonly #open = new Map<string, Batch>();
  #flushScheduled = false;
  readonly #failFast: boolean;
  /** Targets that missed a deadline, with the probe batch in flight (undefined: none yet). */
  readonly #suspect = new Map<number, Batch | undefined>();

  constructor(client: RedisClient | ScriptClient, options: RedisStoreOptions = {}) {
    if (client === null || typeof client !== 'object' || typeof client.evalsha !== 'function') {
      throw new InvalidConfiguration(
        'client',
        client,
        'an ioredis Redis or Cluster client, or a node-redis one wrapped in `nodeRedisClient()`',
      );
    }
    const prefix = options.prefix ?? 'sluice';
    if (!isValidPrefix(prefix)) {
      throw new InvalidConfiguration('prefix', prefix, 'a string without `{` or `}`');
    }
    this.client = client;
    this.prefix = prefix;
    this.timeoutMs = positiveNumber('timeoutMs', options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    this.maxBatch = integerAtLeast('maxBatch', options.maxBatch ?? DEFAULT_MAX_BATCH, 1);
    if (options.failFast !== undefined && typeof options.failFast !== 'boolean') {
      throw new InvalidConfiguration('failFast', options.failFast, 'a boolean');
    }
    this.#failFast = options.failFast ?? true;
    this.clustered = (client as { isCluster?: boolean }).isCluster === true;
  }

  /** Runs one call of `operation` in the next batch of that operation. */
  run(operation: StoreOperation, call: StoreCall): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      const slot = this.clustered ? calculateSlot(call.keys[0] ?? '') : 0;
      const id = this.clustered ? `${operation.name}/${slot}` : operation.name;
      if (this.#suspect.has(slot)) {
        const probe = this.#suspect.get(slot);
        if (probe !== undefined && !probe.settled) {
          reject(
            new StoreUnavailableError('Redis missed a deadline and is being probed; failing fast', {
              timedOut: false,
            }),
          );
          return;
        }
      }
      let batch = this.#open.get(id);
      if (batch === undefined || batch.settled) {
        batch = this.#openBatch(operation, slot);
        this.#open.set(id, batch);
        if (this.#suspect.has(slot)) this.#suspect.set(slot, batch);
        if (!this.#flushScheduled) {
          this.#flushScheduled = true;
          setImmediate(this.#flush);
        }
      }
      batch.waiters.push({ call, resolve, reject });
      if (batch.waiters.length >= this.maxBatch) {
        this.#open.delete(id);
        this.#send(batch, false);
      }
    });
  }

  #openBatch(operation: StoreOperation, target: number): Batch {
    let script = this.#scripts.get(operation);
    if (script === undefined) {
      script = batchScript(operation);
      this.#scripts.set(operation, script);
    }
    const batch: Batch = {
      target,
      script,
      waiters: [],
      settled: false,
      timer: setTimeout(() => {
        this.#fail(
          batch,
          new StoreUnavailableError(`Redis did not answer within ${this.timeoutMs} ms`, {
            timedOut: true,
          }),
        );
      }, this.timeoutMs),
    };
    return batch;
  }

  readonly #flush = (): void => {
    this.#flushScheduled = false;
    const open = [...this.#open.values()];
    this.#open.clear();
    for (const batch of open) this.#send(batch, false);
  };

  #send(batch: Batch, reload: boolean): void {
    if (batch.settled) return;
    const keys: string[] = [];
    const argv: (string | number)[] = [batch.waiters.length];
    for (const { call } of batch.waiters) {
      for (const key of call.keys) keys.push(key);
      argv.push(call.keys.length, call.args.length, call.timestampMs ?? '');
      for (const arg of call.args) argv.push(arg);
    }
    const client: ScriptClient = this.client;
    const sent = reload
      ? client.eval(batch.script.source, keys.length, ...keys, ...argv)
      : client.evalsha(batch.script.sha, keys.length, ...keys, ...argv);
    sent.then(
      (replies) => this.#succeed(batch, replies as Reply[]),
      (error: unknown) => {
        // NOSCRIPT means the script did not run, so sending it again cannot count twice.
        if (!reload && error instanceof Error && error.message.startsWith('NOSCRIPT')) {
          this.#send(batch, true);
        } else {
          this.#fail(
            batch,
            new StoreUnavailableError(`Redis failed: ${String(error)}`, {
              timedOut: false,
              cause: error,
            }),
          );
        }
      },
    );
  }

  #succeed(batch: Batch, replies: Reply[]): void {
    this.#suspect.delete(batch.target);
    if (batch.settled) return;
    batch.settled = true;
    clearTimeout(batch.timer);
    const { waiters } = batch;
    for (let i = 0; i < waiters.length; i++) waiters[i]!.resolve(replies[i] ?? null);
  }

  #fail(batch: Batch, error: StoreUnavailableError): void {
    if (batch.settled) return;
    batch.settled = true;
    clearTimeout(batch.timer);
    if (error.timedOut && this.#failFast) this.#suspect.set(batch.target, undefined);
    for (const waiter of batch.waiters) waiter.reject(error);
  }
}
