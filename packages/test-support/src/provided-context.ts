/**
 * What the test run's global setup (`test/support/global-setup.ts`) provides to every test file
 * through vitest's `provide` and `inject`: its redis-server and its 3-node Cluster.
 *
 * @example
 * ```ts
 * import type {} from '@sluice/test-support/provided-context';
 * import { inject } from 'vitest';
 *
 * const client = new Redis(inject('redisUrl'));
 * const cluster = new Cluster(inject('clusterNodes'));
 * ```
 */
declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
    clusterNodes: Array<{ host: string; port: number }>;
  }
}

export {};
