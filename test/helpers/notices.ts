import type { Shuxiang } from '../../src/main.ts';

/**
 * Queues `count` Feishu text notices (「通知 j」) over `chats` group chats named
 * `${prefix}${j % chats}`, `perTransaction` at a time, as a scheduled fan-out
 * leaves them: nothing is sent until an instance's worker starts.
 */
export async function queueNotices(
  app: Shuxiang,
  o: { count: number; chats: number; prefix: string; perTransaction?: number },
): Promise<void> {
  const step = o.perTransaction ?? o.count;
  for (let i = 0; i < o.count; i += step) {
    await app.db.prisma.$transaction(async (tx) => {
      for (let j = i; j < Math.min(o.count, i + step); j++) {
        await app.outbox.enqueue(
          {
            platform: 'feishu',
            target: { kind: 'chat', id: `${o.prefix}${j % o.chats}` },
            kind: 'text',
            body: { text: `通知 ${j}` },
          },
          tx,
        );
      }
    });
  }
}
