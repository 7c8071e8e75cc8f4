import type { SluiceRequest } from './http-request.js';

/** Bounds on what a client may send as Sentry authentication. */
export const AUTH_LIMITS = {
  /** Longest auth header value, in characters. */
  maxHeaderLength: 4096,
  /** Most `key=value` fields in one auth header. */
  maxFields: 32,
  /** Longest field value, in characters. */
  maxFieldLength: 512,
} as const;

/** The Sentry authentication of a request. */
export interface SentryAuth {
  /** The DSN's public key (`sentry_key`). */
  readonly publicKey: string;
  /** Protocol version (`sentry_version`). */
  readonly version?: string;
  /** SDK name and version (`sentry_client`). */
  readonly client?: string;
}

/** Why authentication failed: the status and message of the answer. */
export interface AuthFailure {
  readonly status: 400 | 401 | 403;
  readonly message: string;
}

const PUBLIC_KEY = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * Reads Sentry authentication from exactly one of `X-Sentry-Auth: Sentry k=v, ...`,
 * `Authorization: Sentry k=v, ...` or the `sentry_key` query parameter, as Relay does: two
 * sources at once, a malformed or oversized value, or a missing key is a failure.
 */
export function readSentryAuth(request: SluiceRequest): SentryAuth | AuthFailure {
  const sources: Array<() => SentryAuth | AuthFailure> = [];
  const header = single(request.headers['x-sentry-auth']);
  if (header !== undefined) sources.push(() => fromHeader(header, 'X-Sentry-Auth'));
  const authorization = single(request.headers.authorization);
  if (authorization !== undefined && /^sentry\s/i.test(authorization)) {
    sources.push(() => fromHeader(authorization, 'Authorization'));
  }
  if (request.query.sentry_key !== undefined) sources.push(() => fromQuery(request.query));
  if (sources.length === 0) return { status: 401, message: 'missing authorization information' };
  if (sources.length > 1)
    return { status: 400, message: 'multiple authorization payloads requested' };
  return sources[0]!();
}

/** True when `value` is a failure rather than authentication. */
export function isAuthFailure(value: SentryAuth | AuthFailure): value is AuthFailure {
  return 'status' in value;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

function fromHeader(value: string, name: string): SentryAuth | AuthFailure {
  if (value.length > AUTH_LIMITS.maxHeaderLength) return bad(`${name} header is too large`);
  const match = /^\s*sentry\s+(.*)$/is.exec(value);
  if (match === null) return bad(`invalid ${name} header: expected "Sentry sentry_key=..."`);
  const fields = new Map<string, string>();
  const parts = match[1]!.split(',');
  if (parts.length > AUTH_LIMITS.maxFields) return bad(`${name} header has too many fields`);
  for (const part of parts) {
    const trimmed = part.trim();
    if (trimmed === '') continue;
    const eq = trimmed.indexOf('=');
    if (eq <= 0) return bad(`invalid ${name} header: malformed field`);
    const key = trimmed
      .slice(0, eq)
      .trim()
      .replace(/^sentry_/, '');
    const fieldValue = trimmed.slice(eq + 1).trim();
    if (fieldValue.length > AUTH_LIMITS.maxFieldLength)
      return bad(`${name} header field ${label(key)} is too long`);
    if (fields.has(key)) return bad(`invalid ${name} header: duplicate field ${label(key)}`);
    fields.set(key, fieldValue);
  }
  return build(fields.get('key'), fields.get('version'), fields.get('client'));
}

function fromQuery(query: SluiceRequest['query']): SentryAuth | AuthFailure {
  const key = query.sentry_key;
  const version = query.sentry_version;
  const client = query.sentry_client;
  if (Array.isArray(key) || Array.isArray(version) || Array.isArray(client)) {
    return bad('multiple authorization payloads requested');
  }
  for (const v of [key, version, client]) {
    if (v !== undefined && v.length > AUTH_LIMITS.maxFieldLength)
      return bad('sentry query parameter is too long');
  }
  return build(key, version, client);
}

function build(
  key: string | undefined,
  version: string | undefined,
  client: string | undefined,
): SentryAuth | AuthFailure {
  if (key === undefined || key === '')
    return { status: 401, message: 'missing sentry_key in authorization' };
  if (!PUBLIC_KEY.test(key)) return bad('invalid sentry_key');
  const auth: { publicKey: string; version?: string; client?: string } = { publicKey: key };
  if (version !== undefined) auth.version = version;
  if (client !== undefined) auth.client = client;
  return auth;
}

/** A field name fit to repeat in an answer (X-Sentry-Error): never the client's bytes at length. */
function label(key: string): string {
  return /^[A-Za-z0-9_-]{1,32}$/.test(key) ? key : '(invalid name)';
}

function bad(message: string): AuthFailure {
  return { status: 400, message };
}
