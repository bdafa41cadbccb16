import { DateTime } from 'luxon';
import { z } from 'zod';
import { defineCommand } from '../../bot/commands.ts';
import type { CommandContext, LeftChat, PausedLine } from '../../bot/context.ts';
import { UserError } from '../../bot/errors.ts';
import { defineFeature, type Feature, type FeatureDeps } from '../../bot/feature.ts';
import { defineJob } from '../../bot/jobs.ts';
import type { Tx } from '../../lib/db.ts';
import { parseJsonValue } from '../../lib/json-column.ts';
import { calendar } from '../../messages/zh-CN/calendar.ts';
import type { Mention, Target } from '../../platforms/types.ts';
import { parseSchedule, TimeParseError } from './parse-time.ts';
import {
  describeRule,
  isValidTimezone,
  nextOccurrences,
  ruleSchema,
  usesWorkingDays,
  type Rule,
} from './recurrence.ts';
import { createFixedActivities } from './fixed-activities.ts';
import { createHolidays, type DescribeItem } from './holidays.ts';
import { missingYearOf, waitForWorkingDays } from './waiting.ts';
import { CalendarDataMissing } from './working-days.ts';

import {
  formatLocal,
  nextReminderSeq,
  retryOnUniqueViolation,
  REMINDER_KIND,
  reminderPayloadSchema,
  type ReminderPayload,
} from './reminder-payload.ts';
import { createReminderList } from './reminder-list.ts';
import { createDeadLetters } from './dead-letters.ts';

// Where other modules have always found them.
export { formatLocal, REMINDER_KIND, reminderPayloadSchema, type ReminderPayload };

const PRIVATE = ['私聊', '私信', 'private', 'dm'];

/** Reminders (`提醒`, `提醒列表`) and the dead-letter list (`发送失败`). */
export function createCalendarFeature(deps: FeatureDeps): Feature {
  const { scheduler, jobs, messages, workingDays } = deps;
  const t = messages.t;

  function render(text: string, late: { due: string } | null): string {
    return late ? t('calendar.reminder.late', { text, due: late.due }) : t('calendar.reminder.text', { text });
  }

  function whenOf(recurrence: string | null, dueAt: Date, tz: string): string {
    if (!recurrence) return t('calendar.once', { time: formatLocal(dueAt, tz) });
    const rule = ruleSchema.safeParse(parseJsonValue(recurrence, 'ScheduledItem.recurrence'));
    return rule.success ? describeRule(rule.data) : recurrence;
  }

  // Delivery: one outbox row per target, in the claiming transaction.
  const reminderJob = defineJob({
    kind: REMINDER_KIND,
    payload: reminderPayloadSchema,
    async run({ item, send }, payload) {
      const text = render(
        payload.text,
        item.late ? { due: DateTime.fromJSDate(item.dueAt, { zone: item.timezone }).toFormat('MM-dd HH:mm') } : null,
      );
      const meta = { scheduledItemId: item.id, dueAt: item.dueAt.toISOString(), late: Boolean(item.late) };
      for (const target of payload.targets) {
        const where = { platform: payload.platform, orgId: item.orgId };
        if (target.kind === 'chat') {
          await send.toChat({ ...where, chatId: target.id }, { text, mentions: payload.mentions }, { meta });
        } else {
          await send.toUser({ ...where, userId: target.id }, { text }, { meta });
        }
      }
    },
  });

  /** `提醒 …`, and a fixed activity switched on (`日历 开启 主题党日`), which names itself in the payload. */
  async function createReminder(
    ctx: CommandContext,
    args: { spec: string; tz?: string },
    activity?: string,
  ): Promise<void> {
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
    /** The first year whose holiday data the rule is still waiting for. */
    let waitsFor: number | null = null;
    if (parsed.kind === 'rule') {
      rule = parsed.rule;
      // The times that are known now; a later year without data does not refuse the reminder.
      upcoming = [];
      try {
        upcoming = nextOccurrences(rule, now, tz, workingDays, 3);
      } catch (err) {
        if (!(err instanceof CalendarDataMissing)) throw err;
        waitsFor = err.year;
        let cursor = now;
        while (upcoming.length < 3) {
          const next = nextOccurrenceOrNull(rule, cursor, tz);
          if (!next) break;
          upcoming.push(next);
          cursor = next;
        }
      }
      if (upcoming.length === 0 && waitsFor === null) {
        throw new UserError('calendar.parse.never', { rule: describeRule(rule) });
      }
      if (waitsFor === null && usesWorkingDays(rule)) {
        // Known for the next three, but the year after the last one with data will need it too.
        const horizon = DateTime.fromJSDate(now, { zone: tz }).plus({ months: 13 }).year;
        if (horizon > workingDays.lastYear) waitsFor = workingDays.lastYear + 1;
      }
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
      ...(activity ? { activity } : {}),
    };
    // The number (编号) is taken in the creating transaction; a race on it goes again.
    const n = await retryOnUniqueViolation(() =>
      deps.db.$transaction(async (tx) => {
        const seq = await nextReminderSeq(tx, identity.orgId);
        if (rule && upcoming.length === 0) {
          // Nothing is known yet (the first time is in a year without data): it waits, and resumes on import.
          reminderPayloadSchema.parse(payload);
          await waitForWorkingDays(tx, {
            orgId: identity.orgId,
            kind: REMINDER_KIND,
            payload,
            rule,
            timezone: tz,
            year: waitsFor!,
            createdBy: identity.memberId,
            dueAt: now,
            seq,
          });
        } else {
          await jobs.schedule(
            reminderJob,
            {
              orgId: identity.orgId,
              dueAt: upcoming[0]!,
              payload,
              recurrence: rule ?? undefined,
              timezone: tz,
              createdBy: identity.memberId,
              seq,
            },
            tx,
          );
        }
        return seq;
      }),
    );

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
    const note = waitsFor !== null ? t('calendar.created.waits', { year: waitsFor }) : '';
    await ctx.reply(
      t(upcoming.length ? 'calendar.created' : 'calendar.created.waiting', {
        n,
        text: parsed.text,
        when: describeRule(rule),
        to,
        count: upcoming.length,
        next: upcoming.map((d) => `· ${formatLocal(d, tz)}`).join('\n'),
      }) + note,
    );
  }

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
      spec: z.string({ message: 'calendar.usage.spec_required' }).min(1),
      tz: z.string().optional(),
    }),
    run: (ctx, args) => createReminder(ctx, args),
  });

  /** The next time, or null when it needs a year without data (the caller then knows it waits). */
  function nextOccurrenceOrNull(rule: Rule, after: Date, tz: string): Date | null {
    try {
      return nextOccurrences(rule, after, tz, workingDays, 1)[0] ?? null;
    } catch (err) {
      if (err instanceof CalendarDataMissing) return null;
      throw err;
    }
  }

  function stateOf(status: string, lastError: string | null): string {
    if (status !== 'stalled') return '';
    const year = missingYearOf(lastError);
    if (year !== null) return t('calendar.list.waiting', { year });
    return t('calendar.list.stalled', { reason: lastError ?? '' });
  }

  const reminderList = createReminderList(deps, { whenOf, stateOf });
  const reminders = reminderList.command;

  const outboxCommand = createDeadLetters(deps);

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
      const payload = reminderPayloadSchema.safeParse(parseJsonValue(item.payload, 'ScheduledItem.payload'));
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

  /** How the year-end notice names a plan that counts working days. */
  const describeItem: DescribeItem = (item) => {
    if (item.kind === REMINDER_KIND) {
      const rule = item.recurrence ? ruleSchema.safeParse(JSON.parse(item.recurrence)) : null;
      const payload = reminderPayloadSchema.safeParse(JSON.parse(item.payload));
      if (!rule?.success || !usesWorkingDays(rule.data) || !payload.success) return null;
      return t('holidays.notice.plan.reminder', { text: payload.data.text, when: describeRule(rule.data) });
    }
    // The quiz's daily practice (its kind string is stable: rows in databases name it).
    if (item.kind === 'quiz.daily.push') {
      return t('holidays.notice.plan.daily', {
        time: DateTime.fromJSDate(item.dueAt, { zone: item.timezone }).toFormat('HH:mm'),
      });
    }
    return null;
  };
  const holidays = createHolidays(deps, describeItem);
  const fixed = createFixedActivities(deps, { create: createReminder, cancel: (id) => jobs.cancel(id) });

  return defineFeature({
    name: 'calendar',
    messages: calendar,
    commands: [remind, reminders, outboxCommand, ...holidays.commands, ...fixed.commands],
    actions: [...holidays.actions, ...reminderList.actions],
    jobs: [reminderJob],
    periodic: [...holidays.periodic, ...fixed.periodic],
    onChatLeft,
    // Every instance re-reads imported holiday years every few seconds.
    start: () => workingDays.start(),
    stop: async () => workingDays.stop(),
  });
}
