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
 * Never touches the store.
 */
export async function identifyRequest(
  req: SluiceRequest,
  options: Pick<SluiceOptions, 'identify' | 'resolveProject'>,
): Promise<Identification> {
  if (options.identify !== undefined) {
    const identity = await options.identify(req);
    return identity
      ? { ok: true, identity }
      : { ok: false, status: 401, message: 'unknown client' };
  }
  const path = projectIdFromPath(req.path);
  if (!path.ok) return { ok: false, status: 400, message: 'invalid project id in path' };
  const auth = readSentryAuth(req);
  if (isAuthFailure(auth)) return { ok: false, ...auth };
  const lookup: { publicKey: string; projectId?: string } = { publicKey: auth.publicKey };
  if (path.projectId !== undefined) lookup.projectId = path.projectId;
  const project = await options.resolveProject!(lookup);
  if (!project) return { ok: false, status: 401, message: 'unknown public key' };
  if (path.projectId !== undefined && String(project.id) !== path.projectId) {
    return { ok: false, status: 403, message: 'public key does not belong to this project' };
  }
  return { ok: true, identity: { project, key: auth.publicKey } };
}
