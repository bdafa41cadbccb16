import { z } from 'zod';
import { mentionSchema, storedCardSchema, type Platform, type Target } from '../platforms/types.ts';
import type { Clock } from '../lib/clock.ts';
import type { Db, Tx } from '../lib/db.ts';
import type { EventScope } from '../lib/event-scope.ts';
import { newId } from '../lib/ids.ts';
import { jsonColumn } from '../lib/json-column.ts';

/** Our handle on a message we sent: the outbox id. */
export interface MessageRef {
  id: string;
}

/**
 * A file message: the stored file's id (never the bytes; the worker loads
 * them when it sends) and the text sent instead, with the download link or
 * the reason there is none, where the platform cannot take the file.
 */
export const fileBodySchema = z.object({
  file: z.object({ id: z.string(), name: z.string() }),
  text: z.string(),
  replyHandle: z.string().optional(),
});
export type FileBody = z.infer<typeof fileBodySchema>;
export const outboxBodySchema = z.union([
  fileBodySchema,
  z.object({ text: z.string(), mentions: z.array(mentionSchema).optional(), replyHandle: z.string().optional() }),
  z.object({ card: storedCardSchema, replyHandle: z.string().optional() }),
]);
export type OutboxBody = z.infer<typeof outboxBodySchema>;
export const outboxBodyColumn = jsonColumn(outboxBodySchema, 'OutboxMessage.body');
/** OutboxMessage.meta: free-form; `report` marks the bot's own reports (not reported again). */
export const outboxMetaColumn = jsonColumn(z.looseObject({ report: z.string().optional() }), 'OutboxMessage.meta');

export interface EnqueueInput {
  platform: Platform;
  orgId?: string | null;
  target: Target;
  kind: 'text' | 'card' | 'card_update' | 'file';
  body: OutboxBody;
  refId?: string;
  /** Deliver no earlier than this (defaults to now). */
  notBefore?: Date;
  meta?: Record<string, unknown>;
  /** Caller-chosen id, so a retried decision maps to the same row (exactly-once). */
  id?: string;
}

export interface Outbox {
  /** Writes one durable row; pass `tx` to commit it with the caller's own writes. */
  enqueue(input: EnqueueInput, tx?: Tx): Promise<MessageRef>;
  depth(): Promise<{ pending: number; oldestPendingAgeSeconds: number; dead: number }>;
  /** Called after a commit that enqueued rows, so the worker need not wait for its poll. */
  onEnqueued(listener: () => void): void;
  /** After the caller's own transaction committed rows (`enqueue(…, tx)`): the worker need not wait for its poll. */
  wake(): void;
}

export function createOutbox(deps: {
  db: Db;
  clock: Clock;
  /** The inbound message being processed: each write stamps its receipt (lib/event-scope.ts). */
  scope?: EventScope;
}): Outbox {
  const listeners: (() => void)[] = [];

  /**
   * Card updates are state, not events: only the newest matters. An update
   * whose card already has one waiting (the chat's rate limit holds it back,
   * or the worker has not come round) replaces that one's body instead of
   * queueing another call. The worker reads a body only after claiming its
   * row, so a row being sent is never changed under it; a sign-in burst
   * becomes as many updates as the per-chat limit lets through, each the newest.
   */
  async function mergeIntoWaiting(input: EnqueueInput, db: Db | Tx): Promise<MessageRef | null> {
    const waiting = await db.outboxMessage.findFirst({
      where: { refId: input.refId!, kind: 'card_update', status: 'pending' },
      select: { id: true },
      orderBy: { createdAt: 'desc' },
    });
    if (!waiting) return null;
    const { count } = await db.outboxMessage.updateMany({
      where: { id: waiting.id, status: 'pending' },
      data: { body: JSON.stringify(input.body) },
    });
    return count === 1 ? { id: waiting.id } : null;
  }

  async function write(input: EnqueueInput, db: Db | Tx): Promise<MessageRef> {
    const now = deps.clock.now();
    if (input.kind === 'card_update' && input.refId && !input.id && !input.notBefore) {
      const merged = await mergeIntoWaiting(input, db);
      if (merged) return merged;
    }
    const id = input.id ?? newId();
    await db.outboxMessage.create({
      data: {
        id,
        platform: input.platform,
        orgId: input.orgId ?? null,
        targetKind: input.target.kind,
        targetId: input.target.id,
        kind: input.kind,
        body: outboxBodyColumn.stringify(input.body),
        refId: input.refId ?? null,
        nextAttemptAt: input.notBefore ?? now,
        meta: input.meta ? outboxMetaColumn.stringify(input.meta) : null,
        createdAt: now,
      },
    });
    return { id };
  }

  return {
    async enqueue(input, tx) {
      const scope = deps.scope;
      if (scope?.active()) {
        // Processing an inbound message: its receipt commits with this write (throws
        // AlreadyProcessed when another run's effects committed first, rolling back the caller's).
        if (tx) {
          await scope.stamp(tx);
          return write(input, tx);
        }
        const ref = await deps.db.$transaction(async (t) => {
          await scope.stamp(t);
          return write(input, t);
        });
        // The worker's loop serves every message, not this one.
        scope.outside(() => {
          for (const l of listeners) l();
        });
        return ref;
      }
      const ref = await write(input, tx ?? deps.db);
      // Inside a caller's transaction the row is not visible yet; the caller's
      // commit is followed by the worker's next poll, or by an explicit kick.
      if (!tx) for (const l of listeners) l();
      return ref;
    },
    async depth() {
      const [pending, dead, oldest] = await Promise.all([
        deps.db.outboxMessage.count({ where: { status: { in: ['pending', 'sending'] } } }),
        deps.db.outboxMessage.count({ where: { status: 'dead' } }),
        deps.db.outboxMessage.findFirst({
          where: { status: { in: ['pending', 'sending'] } },
          orderBy: { createdAt: 'asc' },
          select: { createdAt: true },
        }),
      ]);
      const age = oldest ? (deps.clock.now().getTime() - oldest.createdAt.getTime()) / 1000 : 0;
      return { pending, dead, oldestPendingAgeSeconds: Math.max(0, age) };
    },
    onEnqueued(listener) {
      listeners.push(listener);
    },
    wake() {
      // The worker's loop serves every message, not the one being processed.
      const notify = () => {
        for (const l of listeners) l();
      };
      if (deps.scope) deps.scope.outside(notify);
      else notify();
    },
  };
}
