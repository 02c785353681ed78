/**
 * Runs tasks with at most `limit` at a time (an environment's `max_parallel`), in the order given.
 * A task that throws stops the pool from starting more; the ones running finish, and the first
 * error is thrown once all have settled (tasks that must not stop the pool catch their own errors).
 */
export async function runBounded<T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failed: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < items.length && !failed) {
      const item = items[next++]!;
      try {
        await task(item);
      } catch (error) {
        failed ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failed) throw failed.error;
}
