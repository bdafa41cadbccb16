import { DateTime } from 'luxon';
import type { Messages } from '../../bot/messages.ts';
import type { OutboxMessage } from '../../generated/sqlite/client.ts';
import type { Clock } from '../../lib/clock.ts';
import type { Db, Tx } from '../../lib/db.ts';
import type { Logger } from '../../lib/logger.ts';
import { outboxMetaColumn, type Outbox } from '../../outbox/outbox.ts';
import type { Platform } from '../../platforms/types.ts';
import type { FiredItem, SchedulerReport } from '../../scheduler/scheduler.ts';
import type { Directory } from '../org/directory.ts';
import { REMINDER_KIND, reminderPayloadSchema } from './commands.ts';
import { CalendarDataMissing } from './working-days.ts';

/**
 * Tells an organisation's secretaries (RoleGrant + SHUXIANG_ADMINS) about
 * scheduled items that were missed during downtime or that stopped, by
 * private message. Runs inside the scheduler transaction that recorded the
 * miss, so each miss is reported exactly once.
 */
export function createSchedulerReports(deps: {
  directory: Pick<Directory, 'secretaries'>;
  outbox: Outbox;
  messages: Messages;
  log: Logger;
  graceMs: number;
}) {
  const t = deps.messages.t;

  function what(item: FiredItem): string {
    if (item.kind === REMINDER_KIND) {
      const p = reminderPayloadSchema.safeParse(item.payload);
      if (p.success) return p.data.text.length > 40 ? `${p.data.text.slice(0, 40)}…` : p.data.text;
    }
    return t('calendar.kind.generic', { kind: item.kind });
  }

  function reason(error: unknown): string {
    if (error instanceof CalendarDataMissing) return t('calendar.stalled.no_data', { year: error.year });
    return error instanceof Error ? error.message : String(error);
  }

  async function notify(orgId: string, text: string, tx: Tx): Promise<void> {
    const secretaries = await deps.directory.secretaries(orgId);
    if (secretaries.length === 0) {
      deps.log.warn({ orgId, text }, 'no secretary to tell about a scheduling problem');
      return;
    }
    for (const s of secretaries) {
      await deps.outbox.enqueue(
        {
          platform: s.platform as Platform,
          orgId,
          target: { kind: 'user', id: s.platformUserId },
          kind: 'text',
          body: { text },
          meta: { report: 'scheduler' },
        },
        tx,
      );
    }
  }

  return async function report(r: SchedulerReport, tx: Tx): Promise<void> {
    if (r.type === 'stalled') {
      await notify(r.orgId, t('calendar.stalled', { what: what(r.item), reason: reason(r.error) }), tx);
      return;
    }
    const lines = r.items.slice(0, 30).map(({ item, occurrences }) => {
      const times = occurrences
        .slice(0, 5)
        .map((d) => DateTime.fromJSDate(d, { zone: item.timezone }).toFormat('MM-dd HH:mm'))
        .join('、');
      return t('calendar.missed.line', {
        what: what(item),
        times: occurrences.length > 5 ? `${times} 等 ${occurrences.length} 次` : times,
      });
    });
    if (r.items.length > 30) lines.push(`……`);
    await notify(
      r.orgId,
      t('calendar.missed', {
        count: r.items.length,
        graceHours: Math.round((deps.graceMs / 3600_000) * 10) / 10,
        lines: lines.join('\n'),
      }),
      tx,
    );
  };
}

/**
 * Tells the secretaries when a message is given up for good, at most once an
 * hour per organisation (a dissolved group can kill many messages at once);
 * `发送失败` lists them all. Never about a notice itself, so a platform that
 * rejects everything cannot start a loop.
 */
export function createDeadLetterNotice(deps: {
  db: Db;
  clock: Clock;
  directory: Pick<Directory, 'secretaries'>;
  outbox: Outbox;
  messages: Messages;
}) {
  const t = deps.messages.t;
  return async function onDead(row: OutboxMessage, reasonKey: string | undefined): Promise<void> {
    if (!row.orgId) return;
    const meta = outboxMetaColumn.parseNullable(row.meta);
    if (meta?.report) return;
    const recent = await deps.db.outboxMessage.count({
      where: {
        orgId: row.orgId,
        meta: { contains: '"report":"dead-letter"' },
        createdAt: { gt: new Date(deps.clock.now().getTime() - 3600_000) },
      },
    });
    if (recent > 0) return;
    const reason = reasonKey && deps.messages.has(reasonKey) ? t(reasonKey) : t('outbox.dead.notice.generic');
    for (const s of await deps.directory.secretaries(row.orgId)) {
      await deps.outbox.enqueue({
        platform: s.platform as Platform,
        orgId: row.orgId,
        target: { kind: 'user', id: s.platformUserId },
        kind: 'text',
        body: { text: t('outbox.dead.notice', { reason }) },
        meta: { report: 'dead-letter' },
      });
    }
  };
}
