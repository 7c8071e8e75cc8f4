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
  const header = single(request.headers['x-sentry-auth']);
  let authorization = single(request.headers.authorization);
  if (authorization !== undefined && !/^sentry\s/i.test(authorization)) authorization = undefined;
  const inQuery = request.query.sentry_key !== undefined;
  const sources = (header === undefined ? 0 : 1) + (authorization === undefined ? 0 : 1) + +inQuery;
  if (sources === 0) return { status: 401, message: 'missing authorization information' };
  if (sources > 1) return { status: 400, message: 'multiple authorization payloads requested' };
  if (header !== undefined) return fromHeader(header, 'X-Sentry-Auth');
  if (authorization !== undefined) return fromHeader(authorization, 'Authorization');
  return fromQuery(request.query);
}

/** True when `value` is a failure rather than authentication. */
export function isAuthFailure(value: SentryAuth | AuthFailure): value is AuthFailure {
  return 'status' in value;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

const SCHEME = /^\s*sentry\s+/i;

function fromHeader(value: string, name: string): SentryAuth | AuthFailure {
  if (value.length > AUTH_LIMITS.maxHeaderLength) return bad(`${name} header is too large`);
  const scheme = SCHEME.exec(value);
  if (scheme === null) return bad(`invalid ${name} header: expected "Sentry sentry_key=..."`);
  const parts = value.slice(scheme[0].length).split(',');
  if (parts.length > AUTH_LIMITS.maxFields) return bad(`${name} header has too many fields`);
  const seen: string[] = [];
  let key: string | undefined;
  let version: string | undefined;
  let client: string | undefined;
  for (const part of parts) {
    const eq = part.indexOf('=');
    if (eq === -1 && part.trim() === '') continue;
    const field = eq === -1 ? '' : part.slice(0, eq).trim();
    if (field === '') return bad(`invalid ${name} header: malformed field`);
    const fieldName = field.startsWith('sentry_') ? field.slice(7) : field;
    const fieldValue = part.slice(eq + 1).trim();
    if (fieldValue.length > AUTH_LIMITS.maxFieldLength)
      return bad(`${name} header field ${label(fieldName)} is too long`);
    if (seen.includes(fieldName))
      return bad(`invalid ${name} header: duplicate field ${label(fieldName)}`);
    seen.push(fieldName);
    if (fieldName === 'key') key = fieldValue;
    else if (fieldName === 'version') version = fieldValue;
    else if (fieldName === 'client') client = fieldValue;
  }
  return build(key, version, client);
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
