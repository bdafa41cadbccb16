import type { Clock } from '../lib/clock.ts';
import type { Db } from '../lib/db.ts';
import type { Logger } from '../lib/logger.ts';
import type { Scheduler } from './scheduler.ts';

/** Inbound event keys are kept 8 h: Feishu retries an event for about 7.1 h. */
export const INBOUND_KEEP_MS = 8 * 3600_000;
/** Sent messages are kept long enough for late card updates and the dead-letter list. */
export const SENT_KEEP_MS = 90 * 86_400_000;
export const CRON_RUN_KEEP_MS = 7 * 86_400_000;
/** Dead letters stay listed (发送失败) as long as sent messages are kept. */
export const DEAD_KEEP_MS = SENT_KEEP_MS;
/** Messages cancelled before sending (the bot left the chat) are of no use to anyone after a week. */
export const CANCELLED_KEEP_MS = 7 * 86_400_000;

/** One pass of housekeeping; returns what it deleted. */
export async function cleanUp(db: Db, clock: Clock) {
  const now = clock.now().getTime();
  const inbound = await db.inboundEvent.deleteMany({ where: { receivedAt: { lt: new Date(now - INBOUND_KEEP_MS) } } });
  // Inbox rows are their messages' dedupe keys: kept as long, and never before they are processed.
  const inbox = await db.inboxMessage.deleteMany({
    where: { receivedAt: { lt: new Date(now - INBOUND_KEEP_MS) }, processedAt: { not: null } },
  });
  const sent = await db.outboxMessage.deleteMany({
    where: { status: 'sent', sentAt: { lt: new Date(now - SENT_KEEP_MS) } },
  });
  // Neither was ever sent, so createdAt is their age.
  const unsent = await db.outboxMessage.deleteMany({
    where: {
      OR: [
        { status: 'dead', createdAt: { lt: new Date(now - DEAD_KEEP_MS) } },
        { status: 'cancelled', createdAt: { lt: new Date(now - CANCELLED_KEEP_MS) } },
      ],
    },
  });
  const runs = await db.cronRun.deleteMany({ where: { startedAt: { lt: new Date(now - CRON_RUN_KEEP_MS) } } });
  // Expired download links already answer 404 (the file store checks expiresAt); this frees the bytes.
  // Chunks first and by name (the foreign key cascades too, but SQLite enforces it only when told to);
  // only ids are read, never the bytes.
  const expired = { expiresAt: { lte: new Date(now) } };
  const [, files] = await db.$transaction([
    db.fileChunk.deleteMany({ where: { file: expired } }),
    db.downloadFile.deleteMany({ where: expired }),
  ]);
  return {
    inboundEvents: inbound.count,
    inboxMessages: inbox.count,
    sentMessages: sent.count,
    unsentMessages: unsent.count,
    cronRuns: runs.count,
    downloadFiles: files.count,
  };
}

/** Singleton housekeeping jobs: each firing runs on one instance only (RunCoordinator). */
export function registerCleanupJobs(deps: { scheduler: Scheduler; db: Db; clock: Clock; log: Logger }): void {
  deps.scheduler.every('cleanup', '7 * * * *', async () => {
    const deleted = await cleanUp(deps.db, deps.clock);
    deps.log.info({ deleted }, 'housekeeping done');
  });
}
