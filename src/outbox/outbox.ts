import { z } from 'zod';
import { mentionSchema, storedCardSchema, type Platform, type Target } from '../platforms/types.ts';
import type { Clock } from '../lib/clock.ts';
import { isUniqueViolation, type Db, type Tx } from '../lib/db.ts';
import { AlreadyProcessed, type EventScope } from '../lib/event-scope.ts';
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
}

export function createOutbox(deps: {
  db: Db;
  clock: Clock;
  /** The inbound message being processed: its replies get derived ids (lib/event-scope.ts). */
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

  return {
    async enqueue(input, tx) {
      const now = deps.clock.now();
      if (input.kind === 'card_update' && input.refId && !input.id && !input.notBefore) {
        const merged = await mergeIntoWaiting(input, tx ?? deps.db);
        if (merged) return merged;
      }
      // Card updates are state (merged above), not replies: only messages count as the event's output.
      const derived = input.id || input.kind === 'card_update' ? undefined : deps.scope?.nextId();
      const id = input.id ?? derived ?? newId();
      const created = (tx ?? deps.db).outboxMessage.create({
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
      try {
        await created;
      } catch (err) {
        // The same reply of the same inbound message: it was processed before a crash.
        // Throwing rolls back the caller's transaction, so its writes are not repeated either.
        if (derived && isUniqueViolation(err)) throw new AlreadyProcessed(id);
        throw err;
      }
      // Inside a caller's transaction the row is not visible yet; the caller's
      // commit is followed by the worker's next poll, or by an explicit kick.
      if (!tx) for (const l of listeners) l();
      return { id };
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
  };
}
