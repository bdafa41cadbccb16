import type { Harness, TranscriptMessage } from './harness.ts';

/**
 * Ticks the scheduler at `item`'s due time and fails unless the item moved on: a due item fires at its
 * time, first try. The stand-up's digest once did not: it listed the group's roster, which the
 * directory writes, inside its claiming transaction; on SQLite that write waited for the transaction,
 * the transaction for it, and after 5 s the digest failed (the loops here then moved the clock on a
 * second and it went out on a retry).
 */
export async function tickFiring(h: Harness, item: { id: string; kind: string; dueAt: Date }): Promise<void> {
  await h.shuxiang.scheduler.tick();
  // (A tick of the scheduler's own may have fired it: what counts is that it moved on.)
  const after = await h.shuxiang.db.prisma.scheduledItem.findUnique({ where: { id: item.id } });
  if (after?.status === 'active' && after.dueAt.getTime() === item.dueAt.getTime())
    throw new Error(`${item.kind} due at ${item.dueAt.toISOString()} did not fire at its time`);
}

/**
 * Moves the manual clock to `until`, firing every scheduled item on the way
 * at its own due time (as the one-second tick would), then delivers the outbox.
 * Jumping straight there would make items older than the grace window "missed".
 */
export async function runUntil(h: Harness, until: string | Date): Promise<void> {
  const end = new Date(until);
  const db = h.shuxiang.db.prisma;
  for (let i = 0; i < 500; i++) {
    const next = await db.scheduledItem.findFirst({
      where: { status: 'active', dueAt: { lte: end } },
      orderBy: { dueAt: 'asc' },
    });
    if (!next) break;
    if (next.dueAt.getTime() > h.clock.now().getTime()) h.clock.set(next.dueAt);
    await tickFiring(h, next);
    await h.shuxiang.worker.drain();
  }
  if (end.getTime() > h.clock.now().getTime()) h.clock.set(end);
  await h.shuxiang.worker.drain();
}

/** Everything a card says, for `toContain` checks. */
export const cardText = (m: TranscriptMessage | undefined): string => JSON.stringify(m?.card ?? m?.text ?? '');

/** The bot's messages in a chat whose text or card mentions `needle`. */
export async function botSaid(h: Harness, chatId: string, needle: string): Promise<TranscriptMessage[]> {
  return (await h.transcript(chatId)).filter((m) => m.from === 'bot' && cardText(m).includes(needle));
}

/** What the bot answered in text to one message (card updates it caused left aside). */
export async function answer(h: Harness, chatId: string, userId: string, text: string): Promise<string> {
  const replies = await h.say(chatId, userId, text);
  return replies
    .filter((m) => m.text !== undefined)
    .map((m) => m.text)
    .join('\n');
}
