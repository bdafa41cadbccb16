import { DateTime } from 'luxon';
import { z } from 'zod';
import { defineCommand } from '../../bot/commands.ts';
import type { CommandContext, LeftChat, PausedLine } from '../../bot/context.ts';
import { UserError } from '../../bot/errors.ts';
import type { Messages } from '../../bot/messages.ts';
import type { Tx } from '../../lib/db.ts';
import { outboxBodyColumn, type Outbox } from '../../outbox/outbox.ts';
import type { Mention, Platform, Target } from '../../platforms/types.ts';
import type { FiredItem, Scheduler } from '../../scheduler/scheduler.ts';
import { parseSchedule, TimeParseError } from './parse-time.ts';
import {
  describeRule,
  isValidTimezone,
  nextOccurrences,
  ruleSchema,
  usesWorkingDays,
  type Rule,
} from './recurrence.ts';
import { CalendarDataMissing, type WorkingDays } from './working-days.ts';

export const REMINDER_KIND = 'reminder';

/** What a reminder item carries (ScheduledItem.payload). */
export const reminderPayloadSchema = z.object({
  v: z.literal(1),
  text: z.string(),
  platform: z.string(),
  targets: z.array(z.object({ kind: z.enum(['chat', 'user']), id: z.string() })).min(1),
  mentions: z.array(z.object({ id: z.string(), name: z.string() })).default([]),
  /** Names of the private recipients, for the list. */
  targetNames: z.array(z.string()).default([]),
});
export type ReminderPayload = z.infer<typeof reminderPayloadSchema>;

const PRIVATE = ['私聊', '私信', 'private', 'dm'];
const CANCEL = ['cancel', '取消', '删除', 'delete', 'remove'];
const RETRY = ['retry', '重试', '重发', '重新发送'];
const LIST_DEAD = ['dead', 'list', '列表', '查看'];

const WEEKDAY = ['', '周一', '周二', '周三', '周四', '周五', '周六', '周日'];

export function formatLocal(at: Date, tz: string): string {
  const d = DateTime.fromJSDate(at, { zone: tz });
  return `${d.toFormat('yyyy-MM-dd')} ${WEEKDAY[d.weekday]} ${d.toFormat('HH:mm')}`;
}

export function createCalendarFeature(deps: {
  scheduler: Scheduler;
  outbox: Outbox;
  messages: Messages;
  workingDays: WorkingDays;
  /** Longest text a platform accepts (PlatformMessenger.maxTextLength). */
  maxTextLength: (platform: Platform) => number | undefined;
}) {
  const { scheduler, outbox, messages, workingDays } = deps;
  const t = messages.t;

  function render(text: string, late: { due: string } | null): string {
    return late ? t('calendar.reminder.late', { text, due: late.due }) : t('calendar.reminder.text', { text });
  }

  /** The reminders of an organisation in list order (the numbers people type). */
  async function listReminders(ctx: CommandContext) {
    return ctx.services.db.scheduledItem.findMany({
      where: { orgId: ctx.identity.orgId, kind: REMINDER_KIND, status: { in: ['active', 'stalled'] } },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    });
  }

  function whenOf(recurrence: string | null, dueAt: Date, tz: string): string {
    if (!recurrence) return t('calendar.once', { time: formatLocal(dueAt, tz) });
    const rule = ruleSchema.safeParse(JSON.parse(recurrence));
    return rule.success ? describeRule(rule.data) : recurrence;
  }

  // Delivery: one outbox row per target, in the claiming transaction.
  scheduler.onFire(REMINDER_KIND, async (item: FiredItem, tx: Tx) => {
    const payload = reminderPayloadSchema.parse(item.payload);
    const text = render(
      payload.text,
      item.late ? { due: DateTime.fromJSDate(item.dueAt, { zone: item.timezone }).toFormat('MM-dd HH:mm') } : null,
    );
    for (const target of payload.targets) {
      await outbox.enqueue(
        {
          platform: payload.platform as Platform,
          orgId: item.orgId,
          target,
          kind: 'text',
          body: { text, mentions: target.kind === 'chat' && payload.mentions.length ? payload.mentions : undefined },
          meta: { scheduledItemId: item.id, dueAt: item.dueAt.toISOString(), late: Boolean(item.late) },
        },
        tx,
      );
    }
  });

  const remind = defineCommand({
    name: 'remind',
    zh: '提醒',
    aliases: ['设置提醒'],
    summaryKey: 'cmd.remind.summary',
    usageKey: 'cmd.remind.usage',
    scope: 'any',
    role: 'secretary',
    positionals: ['...spec'],
    options: { tz: { type: 'string' } },
    args: z.object({
      spec: z.string({ message: '请写上时间和内容' }).min(1),
      tz: z.string().optional(),
    }),
    async run(ctx, args) {
      const { identity, event, services } = ctx;
      const tz = args.tz ?? identity.timezone;
      if (!isValidTimezone(tz)) throw new UserError('calendar.bad_timezone', { tz: tz.slice(0, 60) });
      const now = services.clock.now();

      let spec = args.spec.trim();
      const first = spec.split(/\s+/, 1)[0]!.toLowerCase();
      const isPrivate = PRIVATE.includes(first);
      if (isPrivate) spec = spec.slice(first.length).trim();

      let parsed;
      try {
        parsed = parseSchedule(spec, now, tz);
      } catch (err) {
        if (err instanceof TimeParseError) throw new UserError(err.key, err.params);
        throw err;
      }

      // Who gets it: the chat (with @-mentions), or each person privately.
      const mentions: Mention[] = event.mentions;
      let targets: Target[];
      let targetNames: string[] = [];
      if (isPrivate || event.chat.kind === 'direct') {
        const people = isPrivate && mentions.length ? mentions : [{ id: event.sender.id, name: identity.displayName }];
        if (isPrivate && mentions.length === 0 && event.chat.kind === 'group') {
          throw new UserError('calendar.private_needs_target');
        }
        targets = people.map((p) => ({ kind: 'user', id: p.id }));
        targetNames = people.map((p) => p.name);
      } else {
        targets = [{ kind: 'chat', id: event.chat.id }];
      }

      // Refuse what the platform would refuse, before anything is saved.
      const max = deps.maxTextLength(event.platform);
      const longest = render(parsed.text, { due: '00-00 00:00' });
      if (max !== undefined && longest.length > max) {
        throw new UserError('calendar.too_long', { length: longest.length, max });
      }

      let upcoming: Date[];
      let rule: Rule | null = null;
      if (parsed.kind === 'rule') {
        rule = parsed.rule;
        try {
          upcoming = nextOccurrences(rule, now, tz, workingDays, 3);
        } catch (err) {
          if (err instanceof CalendarDataMissing) {
            throw new UserError('calendar.no_holiday_data', { year: err.year, lastYear: workingDays.lastYear });
          }
          throw err;
        }
        if (upcoming.length === 0) throw new UserError('calendar.parse.never', { rule: describeRule(rule) });
      } else {
        upcoming = [parsed.at];
      }

      const payload: ReminderPayload = {
        v: 1,
        text: parsed.text,
        platform: event.platform,
        targets,
        mentions: isPrivate ? [] : mentions,
        targetNames,
      };
      await scheduler.schedule({
        orgId: identity.orgId,
        kind: REMINDER_KIND,
        dueAt: upcoming[0]!,
        payload,
        recurrence: rule ?? undefined,
        timezone: tz,
        createdBy: identity.memberId,
      });
      const n = (await listReminders(ctx)).length;

      const to =
        (targetNames.length && (isPrivate || event.chat.kind === 'group')
          ? t('calendar.created.to_private', { names: targetNames.join('、') })
          : '') +
        (!isPrivate && mentions.length
          ? t('calendar.created.mentions', { names: mentions.map((m) => m.name).join('、') })
          : '');
      if (!rule) {
        await ctx.reply(t('calendar.created.once', { n, text: parsed.text, when: formatLocal(upcoming[0]!, tz), to }));
        return;
      }
      const lastYear = workingDays.lastYear;
      const note =
        usesWorkingDays(rule) && DateTime.fromJSDate(now, { zone: tz }).plus({ months: 13 }).year > lastYear
          ? t('calendar.created.data_note', { lastYear })
          : '';
      await ctx.reply(
        t('calendar.created', {
          n,
          text: parsed.text,
          when: describeRule(rule),
          to,
          next: upcoming.map((d) => `· ${formatLocal(d, tz)}`).join('\n'),
        }) + note,
      );
    },
  });

  const reminders = defineCommand({
    name: 'reminders',
    zh: '提醒列表',
    summaryKey: 'cmd.reminders.summary',
    usageKey: 'cmd.reminders.usage',
    scope: 'any',
    role: 'secretary',
    positionals: ['verb', 'n'],
    args: z
      .object({
        verb: z
          .string()
          .transform((v) => v.toLowerCase())
          .optional(),
        n: z.coerce.number({ message: '编号应是数字' }).int().positive({ message: '编号应是正整数' }).optional(),
      })
      .refine((a) => a.verb === undefined || (CANCEL.includes(a.verb) && a.n !== undefined), {
        message: t('calendar.list.verb'),
      }),
    async run(ctx, { verb, n }) {
      const list = await listReminders(ctx);
      if (verb !== undefined && n !== undefined) {
        const row = list[n - 1];
        if (!row) throw new UserError('calendar.no_such', { n });
        await scheduler.cancel(row.id);
        const payload = reminderPayloadSchema.safeParse(JSON.parse(row.payload));
        await ctx.reply(t('calendar.cancelled', { n, text: payload.success ? payload.data.text : '' }));
        return;
      }
      if (list.length === 0) return void (await ctx.reply(t('calendar.list.empty')));
      const lines = list.map((row, i) => {
        const payload = reminderPayloadSchema.safeParse(JSON.parse(row.payload));
        const text = payload.success ? payload.data.text : row.kind;
        const names =
          payload.success && payload.data.targetNames.length ? ` → ${payload.data.targetNames.join('、')}` : '';
        return t('calendar.list.line', {
          n: i + 1,
          when: whenOf(row.recurrence, row.dueAt, row.timezone),
          text: text + names,
          state: row.status === 'stalled' ? t('calendar.list.stalled', { reason: row.lastError ?? '' }) : '',
          next: row.status === 'stalled' ? '—' : formatLocal(row.dueAt, row.timezone),
        });
      });
      await ctx.reply(t('calendar.list', { lines: lines.join('\n') }));
    },
  });

  const outboxCommand = defineCommand({
    name: 'outbox',
    zh: '发送失败',
    summaryKey: 'cmd.outbox.summary',
    usageKey: 'cmd.outbox.usage',
    scope: 'any',
    role: 'secretary',
    positionals: ['verb', 'n'],
    args: z
      .object({
        verb: z
          .string()
          .transform((v) => v.toLowerCase())
          .optional(),
        n: z.coerce.number({ message: '编号应是数字' }).int().positive({ message: '编号应是正整数' }).optional(),
      })
      .refine(
        (a) => a.verb === undefined || LIST_DEAD.includes(a.verb) || (RETRY.includes(a.verb) && a.n !== undefined),
        {
          message: t('outbox.dead.verb'),
        },
      ),
    async run(ctx, { verb, n }) {
      const { db, clock } = ctx.services;
      const dead = await db.outboxMessage.findMany({
        where: { orgId: ctx.identity.orgId, status: 'dead' },
        orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
        take: 20,
      });
      if (verb !== undefined && RETRY.includes(verb) && n !== undefined) {
        const row = dead[n - 1];
        if (!row) throw new UserError('outbox.dead.no_such', { n });
        await db.outboxMessage.updateMany({
          where: { id: row.id, status: 'dead' },
          data: { status: 'pending', attempts: 0, nextAttemptAt: clock.now(), lastError: null },
        });
        await ctx.reply(t('outbox.dead.retried', { n }));
        return;
      }
      if (dead.length === 0) return void (await ctx.reply(t('outbox.dead.empty')));
      const lines = dead.map((row, i) => {
        let preview = row.kind;
        try {
          const body = outboxBodyColumn.parse(row.body);
          preview = 'text' in body ? body.text : body.card.header.title;
        } catch {
          // a malformed body is itself a reason it died; show the kind
        }
        return t('outbox.dead.line', {
          n: i + 1,
          time: formatLocal(row.createdAt, ctx.identity.timezone),
          target: t(row.targetKind === 'user' ? 'outbox.target.user' : 'outbox.target.chat', { id: row.targetId }),
          preview: preview.length > 40 ? `${preview.slice(0, 40)}…` : preview,
          error: (row.lastError ?? '').slice(0, 120),
        });
      });
      await ctx.reply(t('outbox.dead.list', { lines: lines.join('\n') }));
    },
  });

  /**
   * The bot left a group: its reminders for that group are cancelled, not
   * paused. A paused reminder would need a resume command and would go on
   * counting in 提醒列表 for a group the bot may never rejoin; the notice
   * names each one so the secretary can set it again in one message.
   * Private reminders (to people) are untouched, even if set from that group.
   */
  async function onChatLeft(chat: LeftChat, tx: Tx): Promise<PausedLine[]> {
    const items = await tx.scheduledItem.findMany({
      where: { orgId: chat.orgId, kind: REMINDER_KIND, status: { in: ['active', 'stalled'] } },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    });
    const lines: PausedLine[] = [];
    for (const item of items) {
      const payload = reminderPayloadSchema.safeParse(JSON.parse(item.payload));
      if (!payload.success || payload.data.platform !== chat.platform) continue;
      const isThisChat = (x: Target) => x.kind === 'chat' && x.id === chat.platformChatId;
      if (!payload.data.targets.some(isThisChat)) continue;
      const rest = payload.data.targets.filter((x) => !isThisChat(x));
      if (rest.length > 0) {
        // Others still get it; only the group drops out.
        await tx.scheduledItem.update({
          where: { id: item.id },
          data: { payload: JSON.stringify({ ...payload.data, targets: rest, mentions: [] }) },
        });
      } else {
        await scheduler.cancel(item.id, tx);
      }
      // A rule reads in the words the parser accepts, so it can be typed back; a one-off time cannot.
      lines.push({
        key: item.recurrence ? 'calendar.left.reminder' : 'calendar.left.reminder.once',
        params: { text: payload.data.text, when: whenOf(item.recurrence, item.dueAt, item.timezone) },
      });
    }
    return lines;
  }

  return { commands: [remind, reminders, outboxCommand], actions: [], onChatLeft };
}
