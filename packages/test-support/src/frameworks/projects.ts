import { MemoryStore, type Project, type QuotaConfig, type Store } from '@sluice/core';

/** Projects of the contract's apps, with their DSN public keys. */
export const PROJECTS = {
  one: { id: 1, organizationId: 10, key: 'a1b2c3d4e5f60718293a4b5c6d7e8f90' },
  two: { id: 2, organizationId: 10, key: 'b1b2c3d4e5f60718293a4b5c6d7e8f90' },
  other: { id: 3, organizationId: 20, key: 'c1b2c3d4e5f60718293a4b5c6d7e8f90' },
} as const;

const byKey = new Map<string, Project>(
  Object.values(PROJECTS).map(({ id, organizationId, key }) => [key, { id, organizationId }]),
);

/** The app's key lookup: the project of a public key, or null. */
export function resolveProject({ publicKey }: { publicKey: string }): Project | null {
  return byKey.get(publicKey) ?? null;
}

/** `X-Sentry-Auth` for `key`, as a Sentry SDK sends it. */
export function sentryAuth(key: string): Record<string, string> {
  return {
    'x-sentry-auth': `Sentry sentry_key=${key}, sentry_version=7, sentry_client=sluice-test/1.0`,
  };
}

/** The decision time of memory stores in the contract: fixed, so windows never roll mid-test. */
export const NOW_MS = 1_700_000_000_000;

/** A memory store whose clock stands still at {@link NOW_MS}. */
export function frozenStore(): MemoryStore {
  return new MemoryStore({ clock: () => NOW_MS });
}

/** Seconds from {@link NOW_MS} to the next window of an organization (Sentry's shifted windows). */
export function secondsToNextWindow(organizationId: number, windowSeconds: number): number {
  const now = NOW_MS / 1000;
  const shift = organizationId % windowSeconds;
  return (Math.floor((now - shift) / windowSeconds) + 1) * windowSeconds + shift - now;
}

/** A project quota (`p`, `project_quota`) of `limit` per hour, on the given categories. */
export function hourly(limit: number, categories?: string[]): QuotaConfig {
  return {
    id: 'p',
    scope: 'project',
    limit,
    windowSeconds: 3600,
    reasonCode: 'project_quota',
    ...(categories === undefined ? {} : { categories }),
  };
}

/** A store that counts the calls it passes on to `inner`: the rejection cache's witness. */
export function countingStore(inner: Store): Store & { calls: number } {
  const counting: Store & { calls: number } = {
    prefix: inner.prefix,
    clustered: inner.clustered,
    // The inner store's clock, which global quotas' slices read as the memory store's own.
    ...(inner.clock === undefined ? {} : { clock: inner.clock }),
    calls: 0,
    run(operation, args, timestampMs) {
      counting.calls++;
      return inner.run(operation, args, timestampMs);
    },
  };
  return counting;
}
