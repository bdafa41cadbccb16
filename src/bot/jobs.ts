import type { z } from 'zod';
import type { Tx } from '../lib/db.ts';
import type { Logger } from '../lib/logger.ts';
import type { FiredItem, NextOccurrence, ScheduleInput, Scheduler } from '../scheduler/scheduler.ts';
import type { MessageKey, MessageParams } from './messages.ts';
import type { Sender } from './send.ts';

/**
 * A scheduled job: a kind of durable scheduled item, its payload schema and
 * what runs when one falls due. Features declare jobs as data; the bot
 * registers them with the scheduler, so constructing a feature has no side
 * effects. The payload is checked when scheduled and again when fired (a row
 * written by an older version fails loudly, not with an undefined field).
 */
export interface JobContext {
  item: FiredItem;
  /** The claiming transaction: writes and sends commit with the claim, once. */
  tx: Tx;
  /** Sends inside `tx`. */
  send: Sender;
  t(key: MessageKey, params?: MessageParams): string;
  log: Logger;
}

export interface JobSpec<S extends z.ZodType = z.ZodType, P = unknown> {
  kind: string;
  payload: S;
  /** Recurrence of this kind, when not the calendar's rules. */
  nextOccurrence?: NextOccurrence;
  /**
   * Work that must not run inside the claiming transaction, done before it (FireOptions.prepare):
   * a platform call, or a seam that writes through its own connection. `run` receives the result.
   * `run` writes through `tx` only: on SQLite a write outside it waits for it to end.
   */
  prepare?(item: FiredItem, payload: z.output<S>): Promise<P>;
  run(ctx: JobContext, payload: z.output<S>, prepared: P | undefined): Promise<void>;
}

export function defineJob<S extends z.ZodType, P = undefined>(spec: JobSpec<S, P>): JobSpec<S, P> {
  return spec;
}

/** Scheduling a job with a payload its schema accepts. */
export type JobInput<S extends z.ZodType> = Omit<ScheduleInput, 'kind' | 'payload'> & { payload: z.input<S> };

export interface Jobs {
  schedule<S extends z.ZodType>(job: JobSpec<S>, input: JobInput<S>, tx?: Tx): Promise<{ id: string }>;
  cancel(id: string, tx?: Tx): Promise<boolean>;
}

export class JobPayloadError extends Error {
  constructor(
    readonly kind: string,
    readonly issues: string,
  ) {
    super(`payload of scheduled job "${kind}" rejected: ${issues}`);
    this.name = 'JobPayloadError';
  }
}

export function createJobs(scheduler: Scheduler): Jobs {
  return {
    async schedule(job, input, tx) {
      const parsed = job.payload.safeParse(input.payload);
      if (!parsed.success) throw new JobPayloadError(job.kind, parsed.error.message);
      return scheduler.schedule({ ...input, kind: job.kind, payload: input.payload }, tx);
    },
    cancel: (id, tx) => scheduler.cancel(id, tx),
  };
}

/** Registers every job of every feature; a kind declared twice is a start-up error. */
export function registerJobs(deps: {
  scheduler: Scheduler;
  jobs: JobSpec[];
  context: (item: FiredItem, tx: Tx) => Omit<JobContext, 'item' | 'tx'>;
}): void {
  const seen = new Set<string>();
  for (const job of deps.jobs) {
    if (seen.has(job.kind)) throw new Error(`scheduled job "${job.kind}" is declared twice`);
    seen.add(job.kind);
    const payloadOf = (item: FiredItem) => {
      const parsed = job.payload.safeParse(item.payload);
      // Thrown, not skipped: the scheduler marks the item stalled and tells the secretaries.
      if (!parsed.success) throw new JobPayloadError(job.kind, parsed.error.message);
      return parsed.data;
    };
    deps.scheduler.onFire(
      job.kind,
      (item, tx, prepared) => job.run({ item, tx, ...deps.context(item, tx) }, payloadOf(item), prepared),
      {
        ...(job.nextOccurrence ? { nextOccurrence: job.nextOccurrence } : {}),
        ...(job.prepare ? { prepare: (item: FiredItem) => job.prepare!(item, payloadOf(item)) } : {}),
      },
    );
  }
}
