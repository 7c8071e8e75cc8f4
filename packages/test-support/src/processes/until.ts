import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls `probe` every 10 ms until it returns true; false when `timeoutMs` passes first.
 *
 * @example
 * ```ts
 * expect(await until(async () => (await limiter.holders(key)) === 0, 5000)).toBe(true);
 * ```
 */
export async function until(
  probe: () => boolean | Promise<boolean>,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (await probe()) return true;
    await sleep(10);
  }
  return probe();
}
