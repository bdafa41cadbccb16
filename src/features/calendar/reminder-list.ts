import { z } from 'zod';
import { defineAction } from '../../bot/actions.ts';
import { defineCommand, defineSubcommand } from '../../bot/commands.ts';
import type { CommandContext } from '../../bot/context.ts';
import { UserError } from '../../bot/errors.ts';
import type { FeatureDeps } from '../../bot/feature.ts';
import type { ScheduledItem } from '../../generated/sqlite/client.ts';
import { parseJsonValue } from '../../lib/json-column.ts';
import type { Card } from '../../platforms/types.ts';
import { nextOccurrences, ruleSchema } from './recurrence.ts';
import { formatLocal, REMINDER_KIND, reminderPayloadSchema } from './reminder-payload.ts';
import { CalendarDataMissing } from './working-days.ts';
import { memberText } from '../../platforms/text.ts';

/** How long a cancelled reminder can be restored from the cancel card. */
export const UNDO_MINUTES = 10;

export const RESTORE_ACTION = 'calendar.reminder.restore';
const restorePayload = z.object({ v: z.literal(1), id: z.string().min(1).max(64) });

/**
 * `提醒列表` and `提醒列表 取消 N`: reminders by their own number (编号, the
 * per-organisation `seq` given when each was created), never by position, so
 * cancelling one does not renumber the others. The list says where each one
 * goes; a cancel names what it cancelled and offers an undo for a while.
 */
export function createReminderList(
  deps: FeatureDeps,
  helpers: {
    whenOf(recurrence: string | null, dueAt: Date, tz: string): string;
    stateOf(status: string, lastError: string | null): string;
  },
) {
  const { messages, workingDays, clock, db } = deps;
  const t = messages.t;

  const active = (orgId: string) =>
    db.scheduledItem.findMany({
      where: { orgId, kind: REMINDER_KIND, status: { in: ['active', 'stalled'] } },
      orderBy: [{ seq: { sort: 'asc', nulls: 'last' } }, { createdAt: 'asc' }],
    });

  /** Where a reminder goes: the group by its name, or the people it is sent to privately. */
  async function wheresOf(orgId: string, rows: ScheduledItem[]): Promise<Map<string, string>> {
    const payloads = rows.map((row) => ({
      row,
      p: reminderPayloadSchema.safeParse(parseJsonValue(row.payload, 'ScheduledItem.payload')),
    }));
    const chatIds = payloads.flatMap(({ p }) =>
      p.success ? p.data.targets.filter((x) => x.kind === 'chat').map((x) => x.id) : [],
    );
    const chats = chatIds.length
      ? await db.chat.findMany({ where: { orgId, platformChatId: { in: [...new Set(chatIds)] } } })
      : [];
    const out = new Map<string, string>();
    for (const { row, p } of payloads) {
      if (!p.success) continue;
      const parts: string[] = [];
      for (const target of p.data.targets.filter((x) => x.kind === 'chat')) {
        const chat = chats.find((c) => c.platformChatId === target.id && c.platform === p.data.platform);
        parts.push(chat ? t('calendar.where.chat', { title: chat.title }) : t('calendar.where.chat_unknown'));
      }
      if (p.data.targets.some((x) => x.kind === 'user')) {
        parts.push(
          t('calendar.where.private', { names: p.data.targetNames.join('、') || t('calendar.where.someone') }),
        );
      }
      out.set(row.id, parts.join('；'));
    }
    return out;
  }

  function textOf(row: ScheduledItem): string {
    const payload = reminderPayloadSchema.safeParse(parseJsonValue(row.payload, 'ScheduledItem.payload'));
    return payload.success ? payload.data.text : row.kind;
  }

  async function list(ctx: CommandContext): Promise<void> {
    const rows = await active(ctx.identity.orgId);
    if (rows.length === 0) return void (await ctx.reply(t('calendar.list.empty')));
    const where = await wheresOf(ctx.identity.orgId, rows);
    const lines = rows.map((row) =>
      t('calendar.list.line', {
        n: row.seq ?? '?',
        when: helpers.whenOf(row.recurrence, row.dueAt, row.timezone),
        text: textOf(row),
        state: helpers.stateOf(row.status, row.lastError),
        where: where.get(row.id) ?? '',
        next: row.status === 'stalled' ? '—' : formatLocal(row.dueAt, row.timezone),
      }),
    );
    await ctx.reply(t('calendar.list', { lines: lines.join('\n') }));
  }

  function cancelledCard(row: ScheduledItem, where: string, undo: boolean): Card {
    const n = row.seq ?? 0;
    const body = t('calendar.cancelled', {
      n,
      // A markdown element built here: the secretary's text is marked as member text.
      text: memberText(textOf(row)),
      when: helpers.whenOf(row.recurrence, row.dueAt, row.timezone),
      where,
    });
    return {
      header: { title: t('calendar.cancelled.title', { n }), colour: 'grey' },
      elements: [
        { type: 'markdown', text: body },
        ...(undo
          ? [
              { type: 'note' as const, text: t('calendar.cancelled.undo_note', { minutes: UNDO_MINUTES }) },
              {
                type: 'buttons' as const,
                buttons: [
                  {
                    text: t('calendar.cancelled.undo'),
                    style: 'default' as const,
                    actionId: RESTORE_ACTION,
                    payload: { v: 1, id: row.id },
                  },
                ],
              },
            ]
          : []),
      ],
    };
  }

  const number = z.object({
    n: z.coerce.number({ message: 'usage.number_required' }).int().positive({ message: 'usage.number_positive' }),
  });

  const command = defineCommand({
    name: 'reminders',
    zh: '提醒列表',
    summaryKey: 'cmd.reminders.summary',
    usageKey: 'cmd.reminders.usage',
    scope: 'any',
    role: 'secretary',
    subcommands: [
      defineSubcommand({
        name: 'cancel',
        zh: '取消',
        aliases: ['删除', 'delete', 'remove'],
        positionals: ['n'],
        args: number,
        async run(ctx, { n }) {
          const orgId = ctx.identity.orgId;
          const row = await db.scheduledItem.findFirst({ where: { orgId, kind: REMINDER_KIND, seq: n } });
          if (!row) throw new UserError('calendar.no_such', { n });
          if (row.status === 'cancelled') throw new UserError('calendar.already_cancelled', { n, text: textOf(row) });
          if (row.status !== 'active' && row.status !== 'stalled')
            throw new UserError('calendar.already_over', { n, text: textOf(row) });
          // Conditional: two secretaries cancelling at once, or the item firing meanwhile, cancel it once.
          if (!(await deps.jobs.cancel(row.id))) throw new UserError('calendar.already_over', { n, text: textOf(row) });
          const where = (await wheresOf(orgId, [row])).get(row.id) ?? '';
          await ctx.replyCard(cancelledCard(row, where, true));
        },
      }),
    ],
    run: (ctx) => list(ctx),
  });

  /**
   * The undo button: the reminder comes back with the same number. A one-off
   * whose time has passed meanwhile cannot come back; a recurring one resumes
   * at its next time after now. The window is measured from the stored
   * cancel time, not from anything the card carries.
   */
  const restore = defineAction({
    id: RESTORE_ACTION,
    payload: restorePayload,
    role: 'secretary',
    async run(ctx, p) {
      const now = clock.now();
      const row = await db.scheduledItem.findFirst({
        where: { id: p.id, orgId: ctx.identity.orgId, kind: REMINDER_KIND },
      });
      if (!row) return { toast: { kind: 'error', text: t('calendar.restore.gone') } };
      const n = row.seq ?? 0;
      const where = (await wheresOf(row.orgId, [row])).get(row.id) ?? '';
      if (row.status === 'active' || row.status === 'stalled') {
        return { toast: { kind: 'info', text: t('calendar.restore.already', { n }) } };
      }
      if (
        row.status !== 'cancelled' ||
        !row.cancelledAt ||
        now.getTime() - row.cancelledAt.getTime() > UNDO_MINUTES * 60_000
      ) {
        await ctx.updateCard(cancelledCard(row, where, false));
        return { toast: { kind: 'warning', text: t('calendar.restore.expired', { n, minutes: UNDO_MINUTES }) } };
      }
      // A waiting reminder (no holiday data yet) goes back to waiting; the others run again.
      const status = row.lastError ? 'stalled' : 'active';
      let dueAt = row.dueAt;
      if (status === 'active' && dueAt.getTime() <= now.getTime()) {
        const rule = row.recurrence
          ? ruleSchema.safeParse(parseJsonValue(row.recurrence, 'ScheduledItem.recurrence'))
          : null;
        let next: Date | undefined;
        try {
          next = rule?.success ? nextOccurrences(rule.data, now, row.timezone, workingDays, 1)[0] : undefined;
        } catch (err) {
          if (!(err instanceof CalendarDataMissing)) throw err;
        }
        if (!next) {
          await ctx.updateCard(cancelledCard(row, where, false));
          return { toast: { kind: 'warning', text: t('calendar.restore.passed', { n }) } };
        }
        dueAt = next;
      }
      const { count } = await db.scheduledItem.updateMany({
        where: { id: row.id, status: 'cancelled', cancelledAt: row.cancelledAt },
        data: { status, dueAt, cancelledAt: null },
      });
      if (count === 0) return { toast: { kind: 'info', text: t('calendar.restore.already', { n }) } };
      const text = t('calendar.restored', {
        n,
        text: textOf(row),
        next: status === 'stalled' ? '—' : formatLocal(dueAt, row.timezone),
      });
      await ctx.updateCard({
        header: { title: t('calendar.restored.title', { n }), colour: 'green' },
        elements: [{ type: 'markdown', text }],
      });
      return { toast: { kind: 'success', text } };
    },
  });

  return { command, actions: [restore] };
}
