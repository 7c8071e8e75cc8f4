import { InvalidConfiguration } from '../errors.js';
import type { ExceededLimit } from '../quotas/rate-limit.js';
import { type Answer, rateLimitedAnswer, reasonCodeOf, wholeSeconds } from './answers.js';
import type { LimitedResponse, Refusal, SluiceOptions } from './http-options.js';
import type { SluiceRequest } from './http-request.js';
import type { RequestState } from './request-state.js';

/**
 * How a stage answers a refusal: the status and body it was configured with, and the app's
 * `onLimited`, if any.
 *
 * @example
 * ```ts
 * const shape: RefusalShape = { status: 429, body: undefined, onLimited: undefined };
 * ```
 */
export interface RefusalShape {
  readonly status: number;
  /** The body, already serialized, and its content type; undefined: Sentry's JSON error. */
  readonly body: { readonly text: string; readonly contentType: string } | undefined;
  readonly onLimited: SluiceOptions['onLimited'];
}

/**
 * The status of a refusal unless `limitedStatus` says otherwise.
 *
 * @example
 * ```ts
 * resolveRefusalShape({ identify }).status; // DEFAULT_LIMITED_STATUS, 429
 * ```
 */
export const DEFAULT_LIMITED_STATUS = 429;

/**
 * Resolves `limitedStatus`, `limitedBody` and `onLimited` once (the body serialized); throws
 * {@link InvalidConfiguration} naming a status or body that cannot be sent. `onLimited` is
 * checked with the other options (`stage-validation.ts`).
 *
 * @example
 * ```ts
 * resolveRefusalShape({ identify, limitedStatus: 503, limitedBody: { error: 'busy' } });
 * resolveRefusalShape({ identify, limitedStatus: 200 }); // throws naming `limitedStatus`
 * ```
 */
export function resolveRefusalShape(options: SluiceOptions): RefusalShape {
  const { limitedStatus = DEFAULT_LIMITED_STATUS, limitedBody, onLimited } = options;
  if (!isRefusalStatus(limitedStatus)) {
    throw new InvalidConfiguration('limitedStatus', limitedStatus, 'an integer from 400 to 599');
  }
  const body = limitedBody === undefined ? undefined : serializeBody('limitedBody', limitedBody);
  return { status: limitedStatus, body, onLimited };
}

/**
 * The answer to a request refused by `limits` on a stage without `onLimited`: sluice's 429 with
 * the stage's status and body, built at once (no promise on the refusal path).
 *
 * @example
 * ```ts
 * const answer = configuredAnswer(shape, limits, headers);
 * ```
 */
export function configuredAnswer(
  shape: RefusalShape,
  limits: readonly ExceededLimit[],
  headers: Record<string, string>,
): Answer {
  return shaped(rateLimitedAnswer(limits, headers), shape.status, shape.body, undefined);
}

/**
 * The answer to a request refused by `limits`: sluice's 429 (its headers always), with the
 * stage's status and body, then what `onLimited` returns. A handler that throws, rejects or
 * returns something invalid leaves the configured answer and reports an
 * {@link InvalidConfiguration} naming `onLimited()` to `report`; this never rejects.
 *
 * @example
 * ```ts
 * const answer = await limitedAnswer(shape, req, state, limits, headers, (error) => events.configError(error, project));
 * ```
 */
export async function limitedAnswer(
  shape: RefusalShape,
  req: SluiceRequest,
  state: RequestState,
  limits: readonly ExceededLimit[],
  headers: Record<string, string>,
  report: (error: InvalidConfiguration) => void,
): Promise<Answer> {
  const answer = rateLimitedAnswer(limits, headers);
  if (shape.onLimited === undefined) return shaped(answer, shape.status, shape.body, undefined);
  let custom: CheckedResponse | undefined;
  try {
    const returned = await shape.onLimited(req, refusalOf(state, limits));
    custom = returned === undefined ? undefined : checkedResponse(returned);
  } catch (error) {
    report(
      error instanceof InvalidConfiguration
        ? error
        : new InvalidConfiguration('onLimited()', error, 'a handler that does not throw'),
    );
  }
  return shaped(
    answer,
    custom?.status ?? shape.status,
    custom?.body ?? shape.body,
    custom?.headers,
  );
}

function refusalOf(state: RequestState, limits: readonly ExceededLimit[]): Refusal {
  let worst = limits[0]!;
  for (const limit of limits) if (limit.retryAfter > worst.retryAfter) worst = limit;
  const refusal: { -readonly [K in keyof Refusal]: Refusal[K] } = {
    project: state.project,
    retryAfter: wholeSeconds(worst.retryAfter),
    reasonCode: reasonCodeOf(worst),
    limits,
  };
  if (state.key !== undefined) refusal.key = state.key;
  return refusal;
}

/**
 * `answer` with `status`, `body` and the app's `headers` (sluice's own written over them, so
 * `Retry-After` and the limits stay true; the app's `Content-Type` kept for its own body).
 */
function shaped(
  answer: Answer,
  status: number,
  body: RefusalShape['body'],
  headers: Record<string, string> | undefined,
): Answer {
  if (status === answer.status && body === undefined && headers === undefined) return answer;
  const merged: Record<string, string> = { ...headers, ...answer.headers };
  if (body !== undefined) {
    const own = headers !== undefined && Object.keys(headers).some(isContentType);
    if (own) delete merged['Content-Type'];
    else merged['Content-Type'] = body.contentType;
  }
  return { status, headers: merged, body: body === undefined ? answer.body : body.text };
}

function isContentType(name: string): boolean {
  return name.toLowerCase() === 'content-type';
}

interface CheckedResponse {
  status?: number;
  body?: RefusalShape['body'];
  headers?: Record<string, string>;
}

/** What `onLimited` returned, checked: anything invalid throws naming `onLimited()`. */
function checkedResponse(value: unknown): CheckedResponse {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidConfiguration(
      'onLimited()',
      value,
      '{ status?, body?, headers? } or undefined',
    );
  }
  const { status, body, headers } = value as LimitedResponse;
  if (status !== undefined && !isRefusalStatus(status)) {
    throw new InvalidConfiguration('onLimited().status', status, 'an integer from 400 to 599');
  }
  const checked: CheckedResponse = {};
  if (status !== undefined) checked.status = status;
  if (body !== undefined) checked.body = serializeBody('onLimited().body', body);
  if (headers !== undefined) checked.headers = checkedHeaders(headers);
  return checked;
}

/** A header name (RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,256}$/;
/**
 * A header value Node writes as it is: tab, visible ASCII and Latin-1, no control character
 * (CR and LF could split the answer) and nothing above U+00FF (Node refuses it).
 */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]{0,8192}$/;

function checkedHeaders(headers: unknown): Record<string, string> {
  if (headers === null || typeof headers !== 'object' || Array.isArray(headers)) {
    throw new InvalidConfiguration('onLimited().headers', headers, 'an object of header names');
  }
  const checked: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!HEADER_NAME.test(name) || typeof value !== 'string' || !HEADER_VALUE.test(value)) {
      throw new InvalidConfiguration(
        `onLimited().headers[${JSON.stringify(name)}]`,
        value,
        'a header name with a string value without control characters',
      );
    }
    checked[name] = value;
  }
  return checked;
}

function serializeBody(option: string, body: unknown): NonNullable<RefusalShape['body']> {
  if (typeof body === 'string') return { text: body, contentType: 'text/plain; charset=utf-8' };
  if (body !== null && typeof body === 'object') {
    let text: string | undefined;
    try {
      text = JSON.stringify(body);
    } catch {
      text = undefined;
    }
    if (text !== undefined) return { text, contentType: 'application/json' };
  }
  throw new InvalidConfiguration(option, body, 'a string, or an object or array to send as JSON');
}

function isRefusalStatus(status: unknown): status is number {
  return Number.isInteger(status) && (status as number) >= 400 && (status as number) <= 599;
}
