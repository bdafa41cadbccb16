import type { Logger } from './logger.ts';

/**
 * One log line per instance whose work this one took over. When an instance
 * dies mid-burst its leased rows (inbox messages, outbox messages being
 * sent) expire at slightly different times, so several recovery passes take
 * them over; a line per pass would read as several events. Here the passes
 * add what they took per stopped instance, and the line is written once none
 * of that instance's rows are left: "took over N … left by a stopped instance".
 */
export interface TakeoverReport {
  /** A pass took over `count` rows whose lease `leaseOwner` held. */
  took(leaseOwner: string, count: number): void;
  /** After a pass: reports the instances with nothing left to take over. */
  settle(): Promise<void>;
}

/**
 * The instance part of a lease owner: `host:pid:id`, without the per-claim
 * token some leases add (`host:pid:id:token`).
 */
export const instanceOf = (leaseOwner: string) => leaseOwner.split(':').slice(0, 3).join(':');

export function createTakeoverReport(deps: {
  log: Logger;
  /** What was taken over, plural: "inbox messages". */
  noun: string;
  /** Rows still leased by `instance` (no longer processed by anyone until their lease runs out). */
  remaining(instance: string): Promise<number>;
}): TakeoverReport {
  const taken = new Map<string, number>();
  return {
    took(leaseOwner, count) {
      if (count <= 0) return;
      const instance = instanceOf(leaseOwner);
      taken.set(instance, (taken.get(instance) ?? 0) + count);
    },
    async settle() {
      for (const [instance, count] of taken) {
        if ((await deps.remaining(instance)) > 0) continue;
        taken.delete(instance);
        deps.log.warn({ count, instance }, `took over ${count} ${deps.noun} left by a stopped instance`);
      }
    },
  };
}
