import { committedAlone, type Db, type Provider, type SqlExec } from '../../lib/db.ts';
import { jsonInsert, sqlStamp, type JsonInsertSpec } from '../../lib/sql-insert.ts';
import { createWriteBatcher } from '../../lib/write-batcher.ts';

/**
 * "This member was seen in this chat" (ChatMember), group-committed. A
 * member's first click or message in a chat writes the row before it is
 * answered; at 09:00 that is thousands of first clicks a second, and one
 * commit each cost more than the rest of those clicks' work. Rows arriving
 * together share one multi-row upsert and one commit, and each writer is
 * told once its own row is committed (or why it was not).
 */
export interface ChatMembershipWrites {
  /** Resolves once the row is committed; rejects with this row's own failure. */
  record(chatId: string, memberId: string, seenAt: Date): Promise<void>;
}

/** ChatMember rows (chatId, memberId, seenAt), a pair seen again taking the later time. */
export const CHAT_MEMBER_UPSERT = {
  table: 'ChatMember',
  columns: [
    ['chatId', 'text'],
    ['memberId', 'text'],
    ['seenAt', 'timestamp(3)'],
  ],
  onConflict: 'ON CONFLICT ("chatId","memberId") DO UPDATE SET "seenAt" = excluded."seenAt"',
} as const satisfies JsonInsertSpec;

interface Seen {
  chatId: string;
  memberId: string;
  seenAt: Date;
}

export function createChatMembershipWrites(deps: { db: Db; provider: Provider; sql?: SqlExec }): ChatMembershipWrites {
  const upsert = jsonInsert<Record<string, unknown>>(deps.provider, CHAT_MEMBER_UPSERT);
  const keyOf = (s: Seen) => `${s.chatId}\u0000${s.memberId}`;
  const write = (rows: Seen[]) =>
    committedAlone(deps.db, deps.sql, (exec) =>
      upsert.run(
        exec,
        rows.map((r) => ({ chatId: r.chatId, memberId: r.memberId, seenAt: sqlStamp(r.seenAt) })),
      ),
    );

  const batcher = createWriteBatcher<Seen, unknown>({
    async write(items) {
      // One row per key (PostgreSQL refuses to update a row twice in one statement), the
      // latest sighting winning, in key order so two instances' batches lock rows alike.
      const latest = new Map<string, Seen>();
      for (const s of items) {
        const had = latest.get(keyOf(s));
        if (!had || s.seenAt > had.seenAt) latest.set(keyOf(s), s);
      }
      const rows = [...latest.keys()].sort().map((k) => latest.get(k)!);
      try {
        await write(rows);
        return items.map(() => undefined);
      } catch (err) {
        if (rows.length === 1) return items.map(() => err);
        // One bad row (its member or chat deleted meanwhile) must not cost the others theirs.
        const failed = new Map<string, unknown>();
        for (const r of rows) await write([r]).catch((e: unknown) => failed.set(keyOf(r), e));
        return items.map((s) => failed.get(keyOf(s)));
      }
    },
  });

  return {
    async record(chatId, memberId, seenAt) {
      const err = await batcher.submit({ chatId, memberId, seenAt });
      if (err !== undefined) throw err;
    },
  };
}
