import { z } from 'zod';
import { parseJsonColumn } from '../../lib/json-column.ts';
import { mentionSchema, storedCardSchema, type Card, type Mention } from '../types.ts';
import type { Db } from '../../lib/db.ts';

/**
 * The sandbox chat transcript, kept in the database. `rev` moves on every
 * insert and every card update, so a poller asking for `after=N` also sees
 * cards that changed since it last looked.
 */
export interface TranscriptEntry {
  seq: number;
  rev: number;
  messageId: string;
  from: 'bot' | 'user';
  userId?: string;
  text?: string;
  card?: Card;
  mentions?: Mention[];
  /** A file message: its name, size in bytes and download link. */
  file?: SandboxFile;
  createdAt: string;
}

const sandboxFileSchema = z.object({ name: z.string(), size: z.number(), url: z.string() });
export type SandboxFile = z.infer<typeof sandboxFileSchema>;

export function directChatId(userId: string): string {
  return `dm-${userId}`;
}

export function createTranscript(db: Db) {
  async function nextRev(tx: Pick<Db, 'sandboxMessage'>): Promise<number> {
    const agg = await tx.sandboxMessage.aggregate({ _max: { rev: true } });
    return (agg._max.rev ?? 0) + 1;
  }

  return {
    async append(input: {
      chatId: string;
      messageId: string;
      from: 'bot' | 'user';
      userId?: string;
      text?: string;
      card?: Card;
      mentions?: Mention[];
      file?: SandboxFile;
    }): Promise<void> {
      await db.$transaction(async (tx) => {
        // Idempotent on messageId: the outbox may retry a delivery.
        const exists = await tx.sandboxMessage.findUnique({ where: { messageId: input.messageId } });
        if (exists) return;
        await tx.sandboxMessage.create({
          data: {
            rev: await nextRev(tx),
            chatId: input.chatId,
            messageId: input.messageId,
            from: input.from,
            userId: input.userId ?? null,
            text: input.text ?? null,
            card: input.card ? JSON.stringify(input.card) : null,
            mentions: input.mentions?.length ? JSON.stringify(input.mentions) : null,
            file: input.file ? JSON.stringify(input.file) : null,
          },
        });
      });
    },
    async updateCard(messageId: string, card: Card): Promise<boolean> {
      return db.$transaction(async (tx) => {
        const { count } = await tx.sandboxMessage.updateMany({
          where: { messageId },
          data: { card: JSON.stringify(card), rev: await nextRev(tx) },
        });
        return count === 1;
      });
    },
    async find(messageId: string) {
      const row = await db.sandboxMessage.findUnique({ where: { messageId } });
      return row ? { ...toEntry(row), chatId: row.chatId } : null;
    },
    async list(chatId: string, after: number, limit = 500): Promise<TranscriptEntry[]> {
      const rows = await db.sandboxMessage.findMany({
        where: { chatId, rev: { gt: after } },
        orderBy: { seq: 'asc' },
        take: limit,
      });
      return rows.map(toEntry);
    },
  };
}

function toEntry(row: {
  seq: number;
  rev: number;
  messageId: string;
  from: string;
  userId: string | null;
  text: string | null;
  card: string | null;
  mentions: string | null;
  file: string | null;
  createdAt: Date;
}): TranscriptEntry {
  return {
    seq: row.seq,
    rev: row.rev,
    messageId: row.messageId,
    from: row.from === 'bot' ? 'bot' : 'user',
    ...(row.userId ? { userId: row.userId } : {}),
    ...(row.text !== null ? { text: row.text } : {}),
    ...(row.card ? { card: parseJsonColumn(storedCardSchema, row.card, 'SandboxMessage.card') } : {}),
    ...(row.mentions
      ? { mentions: parseJsonColumn(z.array(mentionSchema), row.mentions, 'SandboxMessage.mentions') }
      : {}),
    ...(row.file ? { file: parseJsonColumn(sandboxFileSchema, row.file, 'SandboxMessage.file') } : {}),
    createdAt: row.createdAt.toISOString(),
  };
}

export type Transcript = ReturnType<typeof createTranscript>;
