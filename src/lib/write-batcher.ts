import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Group commit: callers submit one item each and await their own result,
 * while the items are written together, one transaction per batch. Under load
 * the batch is whatever arrived while the previous write was in flight, so
 * throughput grows with load at no cost in latency when idle. A failed batch
 * rejects every item in it: nobody is told "recorded" unless it was.
 */
export interface WriteBatcher<T, R> {
  submit(item: T): Promise<R>;
  /** Resolves once everything submitted so far is written (or failed). */
  flush(): Promise<void>;
  stats(): { batches: number; items: number; largest: number };
}

export function createWriteBatcher<T, R>(opts: {
  /** Writes a batch; returns one result per item, in order. */
  write(items: T[]): Promise<R[]>;
  /** Cap on rows per statement (SQLite allows 32,766 bound parameters). */
  maxBatch?: number;
}): WriteBatcher<T, R> {
  const maxBatch = opts.maxBatch ?? 500;
  let queue: { item: T; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  let inFlight: Promise<void> | undefined;
  let scheduled = false;
  const stats = { batches: 0, items: 0, largest: 0 };
  // A batch belongs to nobody's request: it runs in the context the batcher was made in,
  // not in that of whoever submitted first (lib/event-scope.ts keeps the inbound message there).
  const detached = AsyncLocalStorage.snapshot();

  async function run(): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.slice(0, maxBatch);
      queue = queue.slice(batch.length);
      stats.batches++;
      stats.items += batch.length;
      stats.largest = Math.max(stats.largest, batch.length);
      try {
        const results = await opts.write(batch.map((b) => b.item));
        if (results.length !== batch.length)
          throw new Error(`batch write returned ${results.length} of ${batch.length}`);
        batch.forEach((b, i) => b.resolve(results[i] as R));
      } catch (err) {
        for (const b of batch) b.reject(err);
      }
    }
  }

  function kick(): void {
    if (inFlight || scheduled) return;
    scheduled = true;
    // Let everything submitted in this turn of the event loop join the first batch.
    setImmediate(() =>
      detached(() => {
        scheduled = false;
        inFlight = run().finally(() => {
          inFlight = undefined;
          if (queue.length > 0) kick();
        });
      }),
    );
  }

  return {
    submit(item) {
      return new Promise<R>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        kick();
      });
    },
    async flush() {
      while (queue.length > 0 || inFlight || scheduled) {
        if (inFlight) await inFlight;
        else await new Promise((r) => setImmediate(r));
      }
    },
    stats: () => ({ ...stats }),
  };
}
