import { parseArgs } from 'node:util';
import { DEFAULT_PREFIX, isValidPrefix } from '../store/key-parts.js';

/** Milliseconds the CLI waits for Redis (connection and each command) unless `--timeout` says. */
export const DEFAULT_CLI_TIMEOUT_MS = 5000;

/**
 * What `sluice --help` prints, and the line a usage error ends with.
 *
 * @example
 * ```ts
 * process.stdout.write(USAGE);
 * ```
 */
export const USAGE = `Usage: sluice <inspect|reset> --redis URL --project ID [options]

Reads (inspect) or clears (reset) the fixed-window quota counters sluice keeps in Redis for one
project, or for one key with --key, and the lockout of that project (or key). Redis Cluster is
detected from the URL's node.

Commands:
  inspect                   list the counters and what each holds, and show the lockout
  reset                     delete the project's (or key's) counters, every window, and lift
                            its lockout

Options:
  --redis URL               redis:// or rediss:// URL of a node (required)
  --project ID              the project id (required)
  --organization ID         the project's organization: narrows the search to its hash tag and,
                            for inspect, lists the organization's shared counters too
  --key K                   a key-scoped quota's key instead of the project's own counters
  --include-organization    reset: also clear the organization's shared counters (needs
                            --organization; they count every project of the organization)
  --include-global          also list (inspect) or clear (reset) the global quotas' counters,
                            which count every project of every organization
  --keep-lockout            reset: leave the lockout in place (it is shown, not lifted)
  --prefix P                the store's key prefix (default: ${DEFAULT_PREFIX})
  --timeout MS              give up on Redis after MS milliseconds (default: ${DEFAULT_CLI_TIMEOUT_MS})
  --json                    print JSON instead of a table
  -h, --help                print this help

Exit status: 0 done, 1 Redis failed or timed out, 2 bad arguments.
`;

/**
 * What a usage error prints after its message: the synopsis and where to read more.
 *
 * @example
 * ```ts
 * process.stderr.write(`sluice: --project is required\n${USAGE_LINE}`);
 * ```
 */
export const USAGE_LINE = `${USAGE.slice(0, USAGE.indexOf('\n'))}\nRun \`sluice --help\` for every option.\n`;

/** A command line the CLI can run. */
export interface CliCommand {
  readonly command: 'inspect' | 'reset';
  readonly redis: string;
  readonly project: string;
  readonly organization: string | undefined;
  readonly key: string | undefined;
  readonly includeOrganization: boolean;
  readonly includeGlobal: boolean;
  /** reset: show the lockout without lifting it. */
  readonly keepLockout: boolean;
  readonly prefix: string;
  readonly timeoutMs: number;
  readonly json: boolean;
}

/**
 * A command line that cannot run: the CLI prints its message and {@link USAGE} and exits 2.
 *
 * @example
 * ```ts
 * try { parseCommandLine(['inspect']); } catch (e) { if (e instanceof UsageError) console.error(e.message); }
 * ```
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * The command `argv` (without `node` and the script) asks for, `'help'` for `--help`; throws
 * {@link UsageError} for an unknown command or option, a missing or repeated value, or a value
 * of the wrong form.
 *
 * @example
 * ```ts
 * parseCommandLine(['inspect', '--redis', 'redis://127.0.0.1:6379', '--project', '42']);
 * // { command: 'inspect', project: '42', prefix: 'sluice', timeoutMs: 5000, json: false, ... }
 * ```
 */
export function parseCommandLine(argv: readonly string[]): CliCommand | 'help' {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    // parseArgs's messages name the option ("Unknown option '--x'"); its codes are not for users.
    // Its advice on positionals that start with '-' only confuses here.
    throw new UsageError((error as Error).message.split('. To specify')[0]!.replace(/\.?$/, ''));
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  if (positionals.length !== 1) {
    throw new UsageError(
      positionals.length === 0
        ? 'a command is required: inspect or reset'
        : `one command expected, received ${positionals.map((p) => JSON.stringify(p)).join(' ')}`,
    );
  }
  const command = positionals[0]!;
  if (command !== 'inspect' && command !== 'reset') {
    throw new UsageError(`unknown command ${JSON.stringify(command)}: use inspect or reset`);
  }
  const redis = required(values.redis, '--redis');
  if (!/^rediss?:\/\/[^\s]+$/.test(redis)) {
    throw new UsageError(
      `--redis must be a redis:// or rediss:// URL, received ${JSON.stringify(redis)}`,
    );
  }
  const project = required(values.project, '--project');
  const organization = optional(values.organization, '--organization');
  const key = optional(values.key, '--key');
  const includeOrganization = values['include-organization'] === true;
  if (includeOrganization && command !== 'reset') {
    throw new UsageError('--include-organization applies to reset only');
  }
  if (includeOrganization && organization === undefined) {
    throw new UsageError('--include-organization needs --organization');
  }
  const keepLockout = values['keep-lockout'] === true;
  if (keepLockout && command !== 'reset') {
    throw new UsageError('--keep-lockout applies to reset only');
  }
  const prefix = values.prefix ?? DEFAULT_PREFIX;
  if (!isValidPrefix(prefix)) {
    throw new UsageError(
      `--prefix must be non-empty, without { or }, received ${JSON.stringify(prefix)}`,
    );
  }
  const timeoutMs = values.timeout === undefined ? DEFAULT_CLI_TIMEOUT_MS : Number(values.timeout);
  if (!/^\d+$/.test(values.timeout ?? '1') || timeoutMs < 1 || timeoutMs > 600_000) {
    throw new UsageError(
      `--timeout must be whole milliseconds from 1 to 600000, received ${JSON.stringify(values.timeout)}`,
    );
  }
  return {
    command,
    redis,
    project,
    organization,
    key,
    includeOrganization,
    includeGlobal: values['include-global'] === true,
    keepLockout,
    prefix,
    timeoutMs,
    json: values.json === true,
  };
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      redis: { type: 'string' },
      project: { type: 'string' },
      organization: { type: 'string' },
      key: { type: 'string' },
      'include-organization': { type: 'boolean' },
      'include-global': { type: 'boolean' },
      'keep-lockout': { type: 'boolean' },
      prefix: { type: 'string' },
      timeout: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

function required(value: string | undefined, option: string): string {
  if (value === undefined) throw new UsageError(`${option} is required`);
  return optional(value, option)!;
}

function optional(value: string | undefined, option: string): string | undefined {
  if (value !== undefined && value.length === 0)
    throw new UsageError(`${option} must not be empty`);
  return value;
}
