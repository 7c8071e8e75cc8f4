import type { Project } from '../quotas/quota-config.js';
import type { Identity, SluiceOptions } from './http-options.js';
import { projectIdFromPath, type SluiceRequest } from './http-request.js';
import { isAuthFailure, readSentryAuth } from './sentry-auth.js';

/** An identified request, or why it was not: the status and message of the answer. */
export type Identification =
  | { ok: true; identity: Identity }
  | { ok: false; status: 400 | 401 | 403; message: string };

/**
 * Who the request belongs to: `identify(req)` when the app gives it, else Sentry auth resolved
 * by `resolveProject`, with the project id of the path checked against the key's project.
 * Never touches the store. Synchronous when the app's function is (no promise on the hot path).
 */
export function identifyRequest(
  req: SluiceRequest,
  options: Pick<SluiceOptions, 'identify' | 'resolveProject'>,
): Identification | Promise<Identification> {
  if (options.identify !== undefined) {
    const identity = options.identify(req);
    return isPromiseLike(identity)
      ? Promise.resolve(identity).then(fromIdentity)
      : fromIdentity(identity);
  }
  const path = projectIdFromPath(req.path);
  if (!path.ok) return { ok: false, status: 400, message: 'invalid project id in path' };
  const auth = readSentryAuth(req);
  if (isAuthFailure(auth)) return { ok: false, ...auth };
  const lookup: { publicKey: string; projectId?: string } = { publicKey: auth.publicKey };
  if (path.projectId !== undefined) lookup.projectId = path.projectId;
  const project = options.resolveProject!(lookup);
  const check = (found: Project | null) => checkProject(found, path.projectId, auth.publicKey);
  return isPromiseLike(project) ? Promise.resolve(project).then(check) : check(project);
}

function fromIdentity(identity: Identity | null): Identification {
  return identity ? { ok: true, identity } : { ok: false, status: 401, message: 'unknown client' };
}

function checkProject(
  project: Project | null,
  projectId: string | undefined,
  publicKey: string,
): Identification {
  if (!project) return { ok: false, status: 401, message: 'unknown public key' };
  if (projectId !== undefined && String(project.id) !== projectId) {
    return { ok: false, status: 403, message: 'public key does not belong to this project' };
  }
  return { ok: true, identity: { project, key: publicKey } };
}

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}
