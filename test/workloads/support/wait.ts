import { setTimeout as sleep } from "node:timers/promises";

/**
 * Polls `check` until it returns something other than undefined/false, or fails after
 * `timeoutMs` naming what was awaited: tests wait for a state, never for a fixed time.
 */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}
