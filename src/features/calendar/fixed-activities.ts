import { DateTime } from 'luxon';
import { z } from 'zod';
import { defineCommand, defineSubcommand } from '../../bot/commands.ts';
import type { CommandContext } from '../../bot/context.ts';
import { UserError } from '../../bot/errors.ts';
import type { FeatureDeps, PeriodicJob } from '../../bot/feature.ts';
import type { MessageKey } from '../../bot/messages.ts';
import { isUniqueViolation } from '../../lib/db.ts';
import { newId } from '../../lib/ids.ts';
import type { CardElement } from '../../platforms/types.ts';
import { parseMoment } from './parse-time.ts';
import { describeRule, ruleSchema } from './recurrence.ts';
import { missingYearOf } from './waiting.ts';

/**
 * The fixed activities of a branch's year (MISSION.md §4; seeds 000–002), as
 * ready-made reminders a secretary switches on with one command each and
 * adjusts by giving another time: the monthly organisation-life day ("3+5"),
 * the weekly group study, the quarterly on-site teaching and the
 * integrity-education day on the first working day after New Year. Each is an
 * ordinary reminder (listed and cancelled like any other) whose payload names
 * the activity. And one yearly quota that is tracked: at least two visits to
 * red education bases per branch (organisation) per year.
 */
export interface FixedActivity {
  id: string;
  /** What secretaries type (the first is the display name). */
  names: string[];
  /** The default time, in the words `提醒` accepts. */
  defaultSpec: string;
  textKey: MessageKey;
}

export const FIXED_ACTIVITIES: FixedActivity[] = [
  {
    id: 'organisation-life',
    names: ['主题党日', '组织生活日', '3+5'],
    defaultSpec: '每月第一个工作日 09:00',
    textKey: 'activity.organisation_life.text',
  },
  {
    id: 'group-study',
    names: ['集中学习', '集中研学', '学习日'],
    defaultSpec: '每周五 15:00',
    textKey: 'activity.group_study.text',
  },
  {
    id: 'on-site-teaching',
    names: ['现场教学', '初心四季歌'],
    defaultSpec: '每季度第一个工作日 09:00',
    textKey: 'activity.on_site_teaching.text',
  },
  {
    id: 'integrity-day',
    names: ['廉政教育日', '廉政教育'],
    defaultSpec: '每年元旦后第一个工作日 09:00',
    textKey: 'activity.integrity_day.text',
  },
];

/** The tracked yearly quota: visits to red education bases. */
export const RED_BASE = { kind: 'red-base', names: ['红色教育基地', '红色教育', 'red-base'], perYear: 2 };

const find = (name: string) => FIXED_ACTIVITIES.find((a) => a.names.some((n) => n === name.normalize('NFKC')));

export function createFixedActivities(
  deps: FeatureDeps,
  reminders: {
    create(ctx: CommandContext, args: { spec: string }, activity: string): Promise<void>;
    cancel(id: string): Promise<boolean>;
  },
) {
  const { db, clock, messages } = deps;
  const t = messages.t;

  /** The organisation's active reminders per fixed activity. */
  async function switchedOn(orgId: string) {
    const rows = await db.scheduledItem.findMany({
      where: { orgId, kind: 'reminder', status: { in: ['active', 'stalled'] } },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    });
    const byActivity = new Map<string, (typeof rows)[number]>();
    const activityOf = z.object({ activity: z.string().optional() });
    for (const row of rows) {
      const a = activityOf.safeParse(JSON.parse(row.payload));
      if (a.success && a.data.activity) byActivity.set(a.data.activity, row);
    }
    return byActivity;
  }

  async function visits(orgId: string, year: number) {
    return db.activityRecord.findMany({
      where: { orgId, kind: RED_BASE.kind, date: { startsWith: `${year}-` } },
      orderBy: [{ date: 'asc' }, { id: 'asc' }],
    });
  }

  function localYear(tz: string): number {
    return DateTime.fromJSDate(clock.now(), { zone: tz }).year;
  }

  async function showCalendar(ctx: CommandContext): Promise<void> {
    const tz = ctx.identity.timezone;
    const on = await switchedOn(ctx.identity.orgId);
    const rows = FIXED_ACTIVITIES.map((a) => {
      const row = on.get(a.id);
      if (!row) return [a.names[0]!, t('activity.off'), t('activity.switch_on', { name: a.names[0]! })];
      const rule = row.recurrence ? ruleSchema.safeParse(JSON.parse(row.recurrence)) : null;
      const waiting = row.status === 'stalled' ? missingYearOf(row.lastError) : null;
      return [
        a.names[0]!,
        rule?.success ? describeRule(rule.data) : '—',
        waiting !== null
          ? t('activity.waiting', { year: waiting })
          : row.status === 'stalled'
            ? t('activity.stalled')
            : DateTime.fromJSDate(row.dueAt, { zone: tz }).toFormat('yyyy-MM-dd HH:mm'),
      ];
    });
    const year = localYear(tz);
    const done = await visits(ctx.identity.orgId, year);
    const elements: CardElement[] = [
      {
        type: 'table',
        columns: [t('activity.col.name'), t('activity.col.when'), t('activity.col.next')],
        rows,
      },
      {
        type: 'fields',
        fields: [
          {
            label: t('activity.red_base.label', { year }),
            value: t('activity.red_base.count', { done: done.length, quota: RED_BASE.perYear }),
          },
        ],
      },
      ...done.map((v) => ({
        type: 'note' as const,
        text: t('activity.red_base.line', { date: v.date, place: v.place }),
      })),
      { type: 'note', text: t('activity.hint') },
    ];
    await ctx.replyCard({ header: { title: t('activity.title', { year }), colour: 'red' }, elements });
  }

  const nameArgs = z.object({
    name: z.string({ message: 'activity.usage.name' }).min(1, { message: 'activity.usage.name' }),
    spec: z.string().optional(),
  });

  const calendarCommand = defineCommand({
    name: 'calendar',
    zh: '日历',
    aliases: ['固定活动'],
    summaryKey: 'cmd.calendar.summary',
    usageKey: 'cmd.calendar.usage',
    scope: 'any',
    role: 'member',
    subcommands: [
      defineSubcommand({
        name: 'on',
        zh: '开启',
        aliases: ['打开', '调整', 'enable'],
        role: 'secretary',
        positionals: ['name', '...spec'],
        args: nameArgs,
        async run(ctx, { name, spec }) {
          const activity = find(name);
          if (!activity) throw new UserError('activity.unknown', { name, names: names() });
          // Switching on again adjusts: the old reminder goes, the new time replaces it.
          const existing = (await switchedOn(ctx.identity.orgId)).get(activity.id);
          const when = spec?.trim() || activity.defaultSpec;
          await reminders.create(ctx, { spec: `${when} ${t(activity.textKey)}` }, activity.id);
          if (existing) await reminders.cancel(existing.id);
        },
      }),
      defineSubcommand({
        name: 'off',
        zh: '关闭',
        aliases: ['停止', 'disable'],
        role: 'secretary',
        positionals: ['name'],
        args: nameArgs.pick({ name: true }),
        async run(ctx, { name }) {
          const activity = find(name);
          if (!activity) throw new UserError('activity.unknown', { name, names: names() });
          const existing = (await switchedOn(ctx.identity.orgId)).get(activity.id);
          if (!existing) throw new UserError('activity.not_on', { name: activity.names[0]! });
          await reminders.cancel(existing.id);
          await ctx.reply(t('activity.switched_off', { name: activity.names[0]! }));
        },
      }),
    ],
    run: (ctx) => showCalendar(ctx),
  });

  const names = () => FIXED_ACTIVITIES.map((a) => a.names[0]).join('、');

  const recordArgs = z.object({
    kind: z.string({ message: 'activity.usage.record' }),
    date: z.string({ message: 'activity.usage.record' }),
    place: z.string({ message: 'activity.usage.record' }).min(1, { message: 'activity.usage.record' }),
  });

  async function showVisits(ctx: CommandContext): Promise<void> {
    const year = localYear(ctx.identity.timezone);
    const done = await visits(ctx.identity.orgId, year);
    const lines = done.map((v) => t('activity.red_base.line', { date: v.date, place: v.place }));
    await ctx.reply(
      t('activity.red_base.summary', {
        year,
        done: done.length,
        quota: RED_BASE.perYear,
        lines: lines.length ? `\n${lines.join('\n')}` : '',
      }),
    );
  }

  const activityCommand = defineCommand({
    name: 'activity',
    zh: '活动',
    summaryKey: 'cmd.activity.summary',
    usageKey: 'cmd.activity.usage',
    scope: 'any',
    role: 'member',
    subcommands: [
      defineSubcommand({
        name: 'record',
        zh: '记录',
        aliases: ['登记'],
        role: 'secretary',
        positionals: ['kind', 'date', '...place'],
        args: recordArgs,
        async run(ctx, { kind, date, place }) {
          if (!RED_BASE.names.includes(kind.normalize('NFKC'))) {
            throw new UserError('activity.record.kind', { kind });
          }
          const tz = ctx.identity.timezone;
          let d = DateTime.fromFormat(date.normalize('NFKC'), 'yyyy-MM-dd', { zone: tz });
          // A day word (今天, 昨天, 上周五) read on the organisation's clock like every date; digits stay strict.
          const word = d.isValid || /\d/.test(date) ? null : parseMoment(date, clock.now(), tz);
          if (word) d = DateTime.fromJSDate(word, { zone: tz }).startOf('day');
          if (!d.isValid) throw new UserError('activity.record.date', { date });
          const today = DateTime.fromJSDate(clock.now(), { zone: ctx.identity.timezone }).startOf('day');
          if (d > today) throw new UserError('activity.record.future', { date });
          await db.activityRecord.create({
            data: {
              id: newId(),
              orgId: ctx.identity.orgId,
              kind: RED_BASE.kind,
              date: d.toFormat('yyyy-MM-dd'),
              place: place.trim(),
              createdBy: ctx.identity.memberId,
              createdAt: clock.now(),
            },
          });
          const done = await visits(ctx.identity.orgId, d.year);
          await ctx.reply(
            t('activity.record.done', {
              date: d.toFormat('yyyy-MM-dd'),
              place: place.trim(),
              year: d.year,
              done: done.length,
              quota: RED_BASE.perYear,
            }),
          );
        },
      }),
    ],
    run: (ctx) => showVisits(ctx),
  });

  /** In the third quarter, once a month, secretaries of a branch behind on red-base visits hear so. */
  async function quotaReminder(): Promise<number> {
    const now = DateTime.fromJSDate(clock.now(), { zone: deps.defaultTimezone });
    if (now.quarter !== 3) return 0;
    const orgs = await db.organisation.findMany({ select: { id: true }, orderBy: { id: 'asc' } });
    let sent = 0;
    for (const org of orgs) {
      const done = (await visits(org.id, now.year)).length;
      if (done >= RED_BASE.perYear) continue;
      try {
        await db.$transaction(async (tx) => {
          await tx.calendarNotice.create({
            data: { orgId: org.id, period: `${RED_BASE.kind}@${now.toFormat('yyyy-MM')}`, sentAt: clock.now() },
          });
          await deps.send
            .in(tx)
            .toSecretaries(
              org.id,
              { key: 'activity.red_base.behind', params: { year: now.year, done, quota: RED_BASE.perYear } },
              { meta: { report: 'activity-quota' } },
            );
        });
        sent++;
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
      }
    }
    return sent;
  }

  const quotaJob: PeriodicJob = {
    name: 'red-base-quota',
    cron: '0 9 * * *',
    run: async () => void (await quotaReminder()),
  };

  return { commands: [calendarCommand, activityCommand], periodic: [quotaJob], quotaReminder };
}
