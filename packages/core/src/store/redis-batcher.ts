import calculateSlot from 'cluster-key-slot';
import { StoreUnavailableError } from '../errors.js';
import { type BatchScript, batchScript } from './batch-script.js';
import type { Arg, Operation } from './operation.js';
import type { ScriptClient } from './script-client.js';
import type { Reply } from './store.js';

/** Most calls in one batch: past it, more batches share the round trip instead. */
export const MAX_BATCH = 16;
/** A batch holds about 1/LOAD_SHARE of the calls queued and in flight. */
const LOAD_SHARE = 4;

/** How a {@link RedisBatcher} sends. */
export interface RedisBatcherOptions {
  /** Deadline of one call in ms, queueing included. */
  readonly timeoutMs: number;
  /** Most calls in one batch. */
  readonly maxBatch: number;
  /** After a missed deadline, one call probes the hash slot and the others fail at once. */
  readonly failFast: boolean;
  /** Group by Cluster hash slot (of each call's first key). */
  readonly clustered: boolean;
}

/** A call encoded when it was made (so a call its operation refuses never joins a batch). */
interface PendingCall {
  readonly keys: string[];
  readonly argv: Arg[];
  /** Decision time in ms, or '' for Redis `TIME`. */
  readonly timestampMs: number | '';
  /** Decodes the reply and settles the caller's promise. */
  readonly resolve: (reply: Reply) => void;
  readonly reject: (error: unknown) => void;
}

/** The calls of one operation and hash slot queued for the next flush. */
interface Group {
  readonly script: BatchScript;
  readonly hashSlot: number;
  queued: PendingCall[];
}

interface Batch {
  readonly group: Group;
  readonly calls: PendingCall[];
  readonly timer: NodeJS.Timeout;
  /** Answered, failed or past its deadline: its callers have their outcome. */
  settled: boolean;
  /** Sent to a hash slot that had missed a deadline. */
  readonly probe: boolean;
}

const FAILING_FAST = () =>
  new StoreUnavailableError('Redis missed a deadline and is being probed; failing fast', {
    timedOut: false,
  });

/**
 * Sends store calls to Redis in batches, one EVALSHA of the operation's batch script per batch.
 * A call made when nothing is queued or in flight goes out at once (no wait at low load);
 * otherwise calls queue and are flushed on `setImmediate`, grouped per operation and hash slot,
 * in batches of about a quarter of the calls queued plus in flight (at most `maxBatch`), so
 * several batches share the round trip and Node and Redis work at the same time.
 *
 * Every batch is bounded by the deadline and stops counting as in flight at it, so a lost reply
 * never holds later calls back. A batch answered NOSCRIPT is sent once more with its source
 * (which loads the script); any other failure fails that batch's calls alone.
 *
 * @example
 * ```ts
 * const batcher = new RedisBatcher(new Redis(), { timeoutMs: 200, maxBatch: 16, failFast: true, clustered: false });
 * const live = await batcher.run(countOperation, { key: 'sluice:c:{snuba}' });
 * ```
 */
export class RedisBatcher {
  readonly #client: ScriptClient;
  readonly #options: RedisBatcherOptions;
  /** Per operation, its batch script and its groups by hash slot. */
  readonly #groups = new Map<
    Operation<never, unknown>,
    { script: BatchScript; bySlot: Map<number, Group> }
  >();
  /** Groups with queued calls, in the order they first queued one. */
  #dirty: Group[] = [];
  #queued = 0;
  #inFlight = 0;
  #flushScheduled = false;
  /** `performance.now()` when the oldest queued call queued. */
  #queuedSince = 0;
  /** Hash slots that missed a deadline, with their probe batches in flight. */
  readonly #probes = new Map<number, number>();
  /** Reused for every batch: the client's arguments are a copy (spread into the call). */
  readonly #keys: string[] = [];
  readonly #argv: (string | number)[] = [];

  constructor(client: ScriptClient, options: RedisBatcherOptions) {
    this.#client = client;
    this.#options = options;
  }

  /** Calls queued or in a batch that has neither settled nor passed its deadline. */
  get pending(): number {
    return this.#queued + this.#inFlight;
  }

  /**
   * Runs a call of `operation` with `args` at `timestampMs` (absent: Redis `TIME`) in a batch
   * and resolves to its decoded result. The call is encoded first: an encoding that throws
   * rejects this call alone, before it joins a batch.
   */
  run<A, R>(operation: Operation<A, R>, args: A, timestampMs?: number): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const keys: string[] = [];
      const argv: Arg[] = [];
      operation.encode(args, keys, argv);
      const hashSlot = this.#options.clustered ? calculateSlot(keys[0] ?? '') : 0;
      const probes = this.#probes.get(hashSlot);
      if (probes !== undefined && probes > 0) {
        reject(FAILING_FAST());
        return;
      }
      const group = this.#group(operation, hashSlot);
      const pending: PendingCall = {
        keys,
        argv,
        timestampMs: timestampMs ?? '',
        resolve: (reply) => {
          try {
            resolve(operation.decode(reply, args));
          } catch (error) {
            reject(error);
          }
        },
        reject,
      };
      if (probes !== undefined || (this.#inFlight === 0 && this.#queued === 0)) {
        // Alone, or probing a suspect hash slot: out at once, by itself.
        this.#send(group, [pending], this.#options.timeoutMs);
        return;
      }
      if (group.queued.length === 0) this.#dirty.push(group);
      group.queued.push(pending);
      this.#queued++;
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        this.#queuedSince = performance.now();
        setImmediate(this.#flush);
      }
    });
  }

  #group(operation: Operation<never, unknown>, hashSlot: number): Group {
    let groups = this.#groups.get(operation);
    if (groups === undefined) {
      groups = { script: batchScript(operation), bySlot: new Map() };
      this.#groups.set(operation, groups);
    }
    let group = groups.bySlot.get(hashSlot);
    if (group === undefined) {
      group = { script: groups.script, hashSlot, queued: [] };
      groups.bySlot.set(hashSlot, group);
    }
    return group;
  }

  readonly #flush = (): void => {
    this.#flushScheduled = false;
    const size = Math.min(
      this.#options.maxBatch,
      Math.max(1, Math.ceil((this.#queued + this.#inFlight) / LOAD_SHARE)),
    );
    const timeoutMs = Math.max(
      1,
      this.#options.timeoutMs - (performance.now() - this.#queuedSince),
    );
    const dirty = this.#dirty;
    this.#dirty = [];
    this.#queued = 0;
    for (const group of dirty) {
      const queued = group.queued;
      group.queued = [];
      const probes = this.#probes.get(group.hashSlot);
      if (probes !== undefined) {
        // The hash slot missed a deadline since these calls queued: one probes, the rest fail.
        if (probes === 0) this.#send(group, [queued[0]!], timeoutMs);
        for (let i = probes === 0 ? 1 : 0; i < queued.length; i++)
          queued[i]!.reject(FAILING_FAST());
        continue;
      }
      if (queued.length <= size) {
        this.#send(group, queued, timeoutMs);
        continue;
      }
      for (let i = 0; i < queued.length; i += size) {
        this.#send(group, queued.slice(i, i + size), timeoutMs);
      }
    }
  };

  #send(group: Group, calls: PendingCall[], timeoutMs: number): void {
    const probes = this.#probes.get(group.hashSlot);
    if (probes !== undefined) this.#probes.set(group.hashSlot, probes + 1);
    const batch: Batch = {
      group,
      calls,
      settled: false,
      probe: probes !== undefined,
      timer: setTimeout(() => this.#missedDeadline(batch), timeoutMs),
    };
    this.#inFlight += calls.length;
    this.#dispatch(batch, false);
  }

  /** Encodes the batch into the reused KEYS and ARGV arrays and sends it. */
  #dispatch(batch: Batch, withSource: boolean): void {
    const keys = this.#keys;
    const argv = this.#argv;
    keys.length = 0;
    argv.length = 0;
    const { calls } = batch;
    argv.push(calls.length);
    for (let c = 0; c < calls.length; c++) {
      const call = calls[c]!;
      const callKeys = call.keys;
      const args = call.argv;
      for (let i = 0; i < callKeys.length; i++) keys.push(callKeys[i]!);
      argv.push(callKeys.length, args.length, call.timestampMs);
      for (let i = 0; i < args.length; i++) argv.push(args[i]!);
    }
    const { script } = batch.group;
    const client = this.#client;
    const sent = withSource
      ? client.eval(script.source, keys.length, ...keys, ...argv)
      : client.evalsha(script.sha, keys.length, ...keys, ...argv);
    sent.then(
      (replies) => this.#answered(batch, replies),
      (error: unknown) => this.#failed(batch, error, withSource),
    );
  }

  #answered(batch: Batch, replies: unknown): void {
    // Redis answers again: the hash slot is no longer suspect.
    this.#probes.delete(batch.group.hashSlot);
    if (!this.#settle(batch)) return;
    // Not an array (a proxy that rewrote it): every call gets nil, which its decode refuses.
    const list: Reply[] = Array.isArray(replies) ? replies : [];
    const { calls } = batch;
    for (let i = 0; i < calls.length; i++) calls[i]!.resolve(list[i] ?? null);
  }

  #failed(batch: Batch, error: unknown, withSource: boolean): void {
    const noScript = error instanceof Error && error.message.startsWith('NOSCRIPT');
    if (noScript) this.#probes.delete(batch.group.hashSlot);
    // NOSCRIPT means the script did not run, so sending it again cannot count twice. A batch
    // past its deadline is not sent again: its callers were told it failed.
    if (noScript && !withSource && !batch.settled) {
      this.#dispatch(batch, true);
      return;
    }
    if (batch.probe) this.#endProbe(batch.group.hashSlot);
    if (!this.#settle(batch)) return;
    const failure = new StoreUnavailableError(`Redis failed: ${String(error)}`, {
      timedOut: false,
      cause: error,
    });
    for (const { reject } of batch.calls) reject(failure);
  }

  #missedDeadline(batch: Batch): void {
    if (!this.#settle(batch)) return;
    const { hashSlot } = batch.group;
    if (batch.probe) this.#endProbe(hashSlot);
    else if (this.#options.failFast && !this.#probes.has(hashSlot)) this.#probes.set(hashSlot, 0);
    const failure = new StoreUnavailableError(
      `Redis did not answer within ${this.#options.timeoutMs} ms`,
      { timedOut: true },
    );
    for (const { reject } of batch.calls) reject(failure);
  }

  /** A probe of `hashSlot` ended without an answer: the next call probes again. */
  #endProbe(hashSlot: number): void {
    const probes = this.#probes.get(hashSlot);
    if (probes !== undefined) this.#probes.set(hashSlot, Math.max(0, probes - 1));
  }

  /** Marks the batch settled; false when it already was. */
  #settle(batch: Batch): boolean {
    if (batch.settled) return false;
    batch.settled = true;
    clearTimeout(batch.timer);
    this.#inFlight -= batch.calls.length;
    return true;
  }
}
