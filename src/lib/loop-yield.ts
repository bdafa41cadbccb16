/**
 * Letting the event loop breathe during long work.
 *
 * better-sqlite3 and Prisma's query compiler run on the main thread, and an
 * awaited Prisma call on SQLite settles through microtasks only: a loop of a
 * thousand awaited queries never lets a timer, a socket read or a webhook in
 * until it ends. A yielder, awaited between chunks, gives the loop one turn
 * (setImmediate: after pending I/O callbacks) once `budgetMs` of work has
 * passed since the last turn, and costs nothing when the work is short.
 *
 * Real elapsed time (performance.now), not the injected business clock: the
 * budget is about how long the process is deaf, which a manual clock in a
 * test does not change.
 */
export interface Yielder {
  /** Resolves at once while under budget; otherwise after one turn of the event loop. */
  maybeYield(): Promise<void>;
  /** How many times this yielder let the loop run (for tests and logs). */
  readonly yields: number;
}

/** One turn of the event loop: timers due, I/O callbacks, then this continues. */
export function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** 20 ms: far under the 200 ms stall target, and a turn of the loop costs only microseconds. */
export const DEFAULT_YIELD_BUDGET_MS = 20;

export function createYielder(options: { budgetMs?: number; now?: () => number } = {}): Yielder {
  const budgetMs = options.budgetMs ?? DEFAULT_YIELD_BUDGET_MS;
  const now = options.now ?? (() => performance.now());
  let last = now();
  let yields = 0;
  return {
    async maybeYield() {
      if (now() - last < budgetMs) return;
      await yieldToLoop();
      yields++;
      last = now();
    },
    get yields() {
      return yields;
    },
  };
}

/**
 * Runs `fn` over `items` in chunks of `size`, giving the loop a turn between
 * chunks when the budget is spent. For pure CPU work (validating rows,
 * building sheet rows) that is not already split by queries.
 */
export async function forEachChunk<T>(
  items: readonly T[],
  size: number,
  fn: (chunk: readonly T[], offset: number) => void | Promise<void>,
  yielder: Yielder = createYielder(),
): Promise<void> {
  for (let i = 0; i < items.length; i += size) {
    await fn(items.slice(i, i + size), i);
    await yielder.maybeYield();
  }
}
