import type { Card, Mention, Platform, Target } from '../platforms/types.ts';
import type { Clock } from '../lib/clock.ts';
import type { Db, Tx } from '../lib/db.ts';
import { newId } from '../lib/ids.ts';

/** Our handle on a message we sent: the outbox id. */
export interface MessageRef {
  id: string;
}

export type OutboxBody =
  { text: string; mentions?: Mention[]; replyHandle?: string } | { card: Card; replyHandle?: string } | FileBody;

/**
 * A file message: the stored file's id (never the bytes; the worker loads
 * them when it sends) and the text sent instead, with the download link or
 * the reason there is none, where the platform cannot take the file.
 */
export interface FileBody {
  file: { id: string; name: string };
  text: string;
  replyHandle?: string;
}

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

export function createOutbox(deps: { db: Db; clock: Clock }): Outbox {
  const listeners: (() => void)[] = [];
  return {
    async enqueue(input, tx) {
      const id = input.id ?? newId();
      const now = deps.clock.now();
      await (tx ?? deps.db).outboxMessage.create({
        data: {
          id,
          platform: input.platform,
          orgId: input.orgId ?? null,
          targetKind: input.target.kind,
          targetId: input.target.id,
          kind: input.kind,
          body: JSON.stringify(input.body),
          refId: input.refId ?? null,
          nextAttemptAt: input.notBefore ?? now,
          meta: input.meta ? JSON.stringify(input.meta) : null,
          createdAt: now,
        },
      });
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
