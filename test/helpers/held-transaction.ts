import type { Db } from '../../src/lib/db.ts';

/**
 * Opens a transaction that writes a row and stays open until `release()`,
 * then rolls back: what another request's aborted transaction looks like to
 * everything else on SQLite's one connection.
 */
export async function openThenRollBack(prisma: Db): Promise<{ release: () => void; done: Promise<string> }> {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  const done = prisma
    .$transaction(async (tx) => {
      await tx.inboundEvent.create({ data: { platform: 'feishu', eventKey: 'rolled-back', receivedAt: new Date() } });
      open();
      await held;
      throw new Error('aborted');
    })
    .catch((err: Error) => err.message);
  await opened;
  return { release, done };
}
