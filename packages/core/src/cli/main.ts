#!/usr/bin/env node
import { RedisStore } from '../store/redis-store.js';
import { type CliCommand, parseCommandLine, USAGE, USAGE_LINE, UsageError } from './arguments.js';
import type { CounterTarget } from './counter-names.js';
import { counterJson, counterTable } from './counter-table.js';
import { actOnLockout, type LockoutAction, lockoutLine } from './lockout-report.js';
import { deleteCounters, readCounters } from './quota-counters.js';
import { connectRedis } from './redis-connection.js';

/**
 * `sluice inspect|reset`: the operators' command line. Exit status 0 when done, 1 when Redis
 * failed or timed out, 2 for bad arguments; a message, never a stack trace.
 *
 * @example
 * ```sh
 * npx sluice inspect --redis redis://127.0.0.1:6379 --project 42 --organization 7
 * npx sluice reset --redis redis://127.0.0.1:6379 --project 42 --json
 * ```
 */
async function main(argv: readonly string[]): Promise<number> {
  let command: CliCommand | 'help';
  try {
    command = parseCommandLine(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`sluice: ${error.message}\n${USAGE_LINE}`);
    return 2;
  }
  if (command === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const target: CounterTarget = {
    prefix: command.prefix,
    project: command.project,
    organization: command.organization,
    key: command.key,
    // inspect shows the organization's shared counters whenever it knows the organization;
    // reset clears them only when asked, since every project of the organization counts there.
    includeOrganization:
      command.command === 'inspect'
        ? command.organization !== undefined
        : command.includeOrganization,
    includeGlobal: command.includeGlobal,
  };
  let redis: Awaited<ReturnType<typeof connectRedis>> | undefined;
  try {
    redis = await connectRedis(command.redis, command.timeoutMs);
    const report =
      command.command === 'inspect'
        ? await readCounters(redis, target)
        : await deleteCounters(redis, target);
    // The lockout of the project (its id is the HTTP layer's default lockout key), or of --key.
    const store = new RedisStore(redis.client, {
      prefix: command.prefix,
      timeoutMs: command.timeoutMs,
    });
    const action: LockoutAction =
      command.command === 'inspect' ? 'show' : command.keepLockout ? 'keep' : 'lift';
    const lockout = await actOnLockout(store, command.key ?? command.project, action);
    process.stdout.write(
      command.json
        ? counterJson(report, lockout)
        : counterTable(report, command.command) + lockoutLine(lockout, action),
    );
    return 0;
  } catch (error) {
    process.stderr.write(`sluice: ${describeFailure(error, command.redis)}\n`);
    return 1;
  } finally {
    await redis?.close();
  }
}

function describeFailure(error: unknown, url: string): string {
  const message = error instanceof Error ? error.message : String(error);
  return `Redis at ${withoutPassword(url)} failed: ${message}`;
}

/** The URL as it can be printed: a password never reaches a terminal or a log. */
function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(the --redis URL)';
  }
}

// Exit once the output is flushed: a client still closing its socket to a hung Redis must not
// hold the process open past the deadline.
main(process.argv.slice(2)).then(exit, (error: unknown) => {
  process.stderr.write(`sluice: unexpected failure: ${String(error)}\n`);
  exit(1);
});

function exit(code: number): void {
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}
