/**
 * Fixed windows aligned per organization, as Sentry does: slot = floor((t - shift) / window)
 * with shift = organization id mod window (a stable hash for ids that are not integers), so the
 * organizations do not all reset at the same instant.
 */

/** Seconds by which an organization's windows of length `windowSeconds` are shifted. */
export function windowShift(organizationId: string | number, windowSeconds: number): number {
  const text = String(organizationId);
  const numeric = /^\d{1,15}$/.test(text) ? Number(text) : stableHash(text);
  return numeric % windowSeconds;
}

/** Seconds from `timestamp` until the next window starts. */
export function secondsToNextWindow(
  timestamp: number,
  windowSeconds: number,
  shift: number,
): number {
  const slot = Math.floor((timestamp - shift) / windowSeconds);
  return (slot + 1) * windowSeconds + shift - timestamp;
}

/** FNV-1a over UTF-16 code units: stable across processes and versions. */
function stableHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
