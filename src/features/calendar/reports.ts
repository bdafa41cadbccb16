import { DateTime } from 'luxon';
import type { Messages } from '../../bot/messages.ts';
import type { SendHub } from '../../bot/send.ts';
import type { OutboxMessage } from '../../generated/sqlite/client.ts';
import type { Clock } from '../../lib/clock.ts';
import type { Db, Tx } from '../../lib/db.ts';
import type { Logger } from '../../lib/logger.ts';
import { outboxMetaColumn } from '../../outbox/outbox.ts';
import type { FiredItem, SchedulerReport } from '../../scheduler/scheduler.ts';
import { REMINDER_KIND, reminderPayloadSchema } from './commands.ts';
import { CalendarDataMissing } from './working-days.ts';

/**
 * Tells an organisation's secretaries (RoleGrant + SHUXIANG_ADMINS) about
 * scheduled items that were missed during downtime or that stopped, by
 * private message. Runs inside the scheduler transaction that recorded the
 * miss, so each miss is reported exactly once.
 */
export function createSchedulerReports(deps: { send: SendHub; messages: Messages; log: Logger; graceMs: number }) {
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
    const sent = await deps.send.in(tx).toSecretaries(orgId, { text }, { meta: { report: 'scheduler' } });
    if (sent.length === 0) deps.log.warn({ orgId, text }, 'no secretary to tell about a scheduling problem');
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
        times: occurrences.length > 5 ? t('calendar.missed.times_more', { times, count: occurrences.length }) : times,
      });
    });
    if (r.items.length > 30) lines.push(t('calendar.missed.more'));
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
export function createDeadLetterNotice(deps: { db: Db; clock: Clock; send: SendHub; messages: Messages }) {
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
    await deps.send.toSecretaries(
      row.orgId,
      { key: 'outbox.dead.notice', params: { reason } },
      { meta: { report: 'dead-letter' } },
    );
  };
}
