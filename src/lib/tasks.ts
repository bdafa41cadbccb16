import type { Logger } from './logger.ts';

/**
 * Runs work after a platform has been answered (the "ack first, work later"
 * rule). Failures are logged, never thrown into the void; tests await drain().
 */
export interface BackgroundTasks {
  run(label: string, work: () => Promise<unknown>): void;
  drain(): Promise<void>;
}

export function createBackgroundTasks(log: Logger): BackgroundTasks {
  const pending = new Set<Promise<unknown>>();
  return {
    run(label, work) {
      const p = Promise.resolve()
        .then(work)
        .catch((err: unknown) => log.error({ err, task: label }, 'background task failed'))
        .finally(() => pending.delete(p));
      pending.add(p);
    },
    async drain() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
  };
}
