import { DateTime } from 'luxon';
import { z } from 'zod';
import { defineAction } from '../../bot/actions.ts';
import { defineCommand, defineSubcommand } from '../../bot/commands.ts';
import type { Identity } from '../../bot/context.ts';
import { UserError } from '../../bot/errors.ts';
import type { FeatureDeps } from '../../bot/feature.ts';
import { defineJob } from '../../bot/jobs.ts';
import { asPlatform } from '../../bot/send.ts';
import type { Tx } from '../../lib/db.ts';
import { newId } from '../../lib/ids.ts';
import { noticeCard } from './cards.ts';
import { atLocal, isWorkday, localDate } from './time.ts';

const TIME = /^([01]?\d|2[0-3])[:：]([0-5]\d)$/;
const ASK_KIND = 'supervision.standup.ask';
const SUMMARY_KIND = 'supervision.standup.summary';
export const MAX_REPORT = 300;

function parseTime(word: string | undefined): string {
  const m = word ? TIME.exec(word.normalize('NFKC')) : null;
  if (!m)
    throw new UserError(word ? 'supervision.standup.bad_time' : 'supervision.standup.need_times', {
      input: (word ?? '').slice(0, 20),
    });
  return `${m[1]!.padStart(2, '0')}:${m[2]}`;
}

/**
 * The daily stand-up (碰头会) of a task group: on working days the bot asks
 * the group at one time and sums up at another; the digest goes to the group,
 * the names of who did not answer to the secretaries only. Each member's last
 * line of the day counts (one row per member and day, by a unique key).
 */
export function createStandups(deps: FeatureDeps) {
  const { db, clock, messages, cards, jobs, workingDays, directory } = deps;
  const t = messages.t;
  const ref = z.object({ v: z.literal(1), standup: z.string().min(1) });

  const askCard = (standup: { id: string; summaryAt: string }, date: string) =>
    noticeCard(cards, {
      title: t('supervision.standup.ask.title', { date }),
      text: t('supervision.standup.ask.text', { summary: standup.summaryAt }),
      controls: [
        {
          type: 'form',
          inputs: [{ name: 'text', label: t('supervision.standup.ask.field'), multiline: true }],
          submitText: t('supervision.standup.ask.submit'),
          actionId: 'supervision.standup.report',
          payload: { v: 1, standup: standup.id },
        },
      ],
    });

  const askJob = defineJob({
    kind: ASK_KIND,
    payload: ref,
    async run({ tx, send, item }, p) {
      const s = await tx.supervisionStandup.findUnique({ where: { id: p.standup } });
      if (!s || s.status !== 'active') return;
      await send.toChat(
        { platform: s.platform, orgId: s.orgId, chatId: s.chatId },
        { card: askCard(s, localDate(item.dueAt, s.timezone)) },
      );
    },
  });

  const summaryJob = defineJob({
    kind: SUMMARY_KIND,
    payload: ref,
    // The group's roster comes from the platform (and is written to the directory): before the
    // claiming transaction, not inside it.
    async prepare(_item, p) {
      const s = await db.supervisionStandup.findUnique({ where: { id: p.standup } });
      return s && s.status === 'active' ? directory.chatMembers(s.orgId, asPlatform(s.platform), s.chatId) : [];
    },
    async run({ tx, send, item }, p, members = []) {
      const s = await tx.supervisionStandup.findUnique({ where: { id: p.standup } });
      if (!s || s.status !== 'active') return;
      const date = localDate(item.dueAt, s.timezone);
      const reports = await tx.supervisionStandupReport.findMany({
        where: { standupId: s.id, date },
        orderBy: { at: 'asc' },
      });
      await send.toChat(
        { platform: s.platform, orgId: s.orgId, chatId: s.chatId },
        {
          card: noticeCard(cards, {
            title: t('supervision.standup.digest.title', { date }),
            colour: 'blue',
            text: reports.length
              ? t('supervision.standup.digest.text', { count: reports.length })
              : t('supervision.standup.digest.empty'),
            table: {
              columns: t('supervision.standup.digest.columns').split('|'),
              rows: reports.map((r) => [r.name, r.text]),
            },
          }),
        },
      );
      // Who is expected: the group's members, secretaries aside.
      const secretaries = new Set(
        (await tx.roleGrant.findMany({ where: { orgId: s.orgId, role: 'secretary' } })).map((g) => g.memberId),
      );
      const answered = new Set(reports.map((r) => r.memberId));
      const missing = members.filter((m) => !secretaries.has(m.id) && !answered.has(m.id)).map((m) => m.displayName);
      const chat = await tx.chat.findUnique({
        where: { platform_platformChatId: { platform: s.platform, platformChatId: s.chatId } },
      });
      await send.toSecretaries(s.orgId, {
        key: missing.length ? 'supervision.standup.missing' : 'supervision.standup.missing.none',
        params: { chat: chat?.title ?? s.chatId, date, names: missing.join('、') },
      });
    },
  });

  async function stop(tx: Tx, platform: string, chatId: string): Promise<boolean> {
    const s = await tx.supervisionStandup.findUnique({ where: { platform_chatId: { platform, chatId } } });
    if (!s || s.status !== 'active') return false;
    for (const id of [s.askItemId, s.summaryItemId]) if (id) await jobs.cancel(id, tx);
    await tx.supervisionStandup.update({ where: { id: s.id }, data: { status: 'stopped' } });
    return true;
  }

  /** The next working day at `time` after now (today if still ahead). */
  function nextAt(time: string, tz: string): Date {
    const now = clock.now();
    let d = DateTime.fromJSDate(now, { zone: tz });
    for (let i = 0; i < 400; i++, d = d.plus({ days: 1 })) {
      const date = d.toISODate()!;
      const at = atLocal(date, time, tz);
      if (at.getTime() > now.getTime() && isWorkday(workingDays, date)) return at;
    }
    throw new Error('no working day within 400 days');
  }

  async function save(
    identity: Identity,
    platform: string,
    chat: { id: string; kind: string },
    text: string,
  ): Promise<string> {
    const line = text.trim();
    if (!line) throw new UserError('supervision.report.empty');
    if (line.length > MAX_REPORT)
      throw new UserError('supervision.report.too_long', { max: MAX_REPORT, length: line.length });
    let standup =
      chat.kind === 'group'
        ? await db.supervisionStandup.findUnique({ where: { platform_chatId: { platform, chatId: chat.id } } })
        : null;
    if (chat.kind !== 'group') {
      // In a private chat: the stand-up of a group this member is in.
      const groups = await db.chatMember.findMany({ where: { memberId: identity.memberId }, include: { chat: true } });
      standup = await db.supervisionStandup.findFirst({
        where: { status: 'active', platform, chatId: { in: groups.map((g) => g.chat.platformChatId) } },
      });
    }
    if (!standup || standup.status !== 'active') throw new UserError('supervision.report.none_here');
    const now = clock.now();
    const date = localDate(now, standup.timezone);
    const key = { standupId_date_memberId: { standupId: standup.id, date, memberId: identity.memberId } };
    const before = await db.supervisionStandupReport.findUnique({ where: key });
    await db.supervisionStandupReport.upsert({
      where: key,
      create: {
        id: newId(),
        standupId: standup.id,
        orgId: standup.orgId,
        date,
        memberId: identity.memberId,
        name: identity.displayName,
        text: line,
        at: now,
      },
      update: { text: line, at: now },
    });
    return t(before ? 'supervision.report.updated' : 'supervision.report.saved', { name: identity.displayName });
  }

  const standupCommand = defineCommand({
    name: 'standup',
    zh: '碰头会',
    summaryKey: 'cmd.standup.summary',
    usageKey: 'cmd.standup.usage',
    scope: 'group',
    role: 'member',
    async run(ctx) {
      const s = await db.supervisionStandup.findUnique({
        where: { platform_chatId: { platform: ctx.platform, chatId: ctx.event.chat.id } },
      });
      if (!s || s.status !== 'active') return void (await ctx.reply(t('supervision.standup.none')));
      const count = await db.supervisionStandupReport.count({
        where: { standupId: s.id, date: localDate(clock.now(), s.timezone) },
      });
      await ctx.reply(t('supervision.standup.status', { ask: s.askAt, summary: s.summaryAt, count }));
    },
    subcommands: [
      defineSubcommand({
        name: 'on',
        zh: '开启',
        aliases: ['start'],
        role: 'secretary',
        positionals: ['ask', 'word', 'summary'],
        args: z.object({ ask: z.string().optional(), word: z.string().optional(), summary: z.string().optional() }),
        async run(ctx, args) {
          const ask = parseTime(args.ask);
          if (args.word && !['汇总', 'summary'].includes(args.word.toLowerCase())) {
            throw new UserError('supervision.standup.need_times');
          }
          const summary = parseTime(args.summary);
          if (summary <= ask) throw new UserError('supervision.standup.order', { ask, summary });
          const { identity, platform } = ctx;
          const tz = identity.timezone;
          const chatId = ctx.event.chat.id;
          const rule = (time: string) => ({ freq: 'workdays' as const, time });
          const firstAsk = nextAt(ask, tz);
          await db.$transaction(async (tx) => {
            await stop(tx, platform, chatId);
            const existing = await tx.supervisionStandup.findUnique({
              where: { platform_chatId: { platform, chatId } },
            });
            const id = existing?.id ?? newId();
            const data = {
              askAt: ask,
              summaryAt: summary,
              timezone: tz,
              status: 'active',
              createdBy: identity.memberId,
            };
            if (existing) await tx.supervisionStandup.update({ where: { id }, data });
            else
              await tx.supervisionStandup.create({
                data: { id, orgId: identity.orgId, platform, chatId, createdAt: clock.now(), ...data },
              });
            const askItem = await jobs.schedule(
              askJob,
              {
                orgId: identity.orgId,
                dueAt: firstAsk,
                payload: { v: 1, standup: id },
                recurrence: rule(ask),
                timezone: tz,
                createdBy: identity.memberId,
              },
              tx,
            );
            const summaryItem = await jobs.schedule(
              summaryJob,
              {
                orgId: identity.orgId,
                dueAt: nextAt(summary, tz),
                payload: { v: 1, standup: id },
                recurrence: rule(summary),
                timezone: tz,
                createdBy: identity.memberId,
              },
              tx,
            );
            await tx.supervisionStandup.update({
              where: { id },
              data: { askItemId: askItem.id, summaryItemId: summaryItem.id },
            });
          });
          await ctx.reply(
            t('supervision.standup.started', {
              ask,
              summary,
              next: DateTime.fromJSDate(firstAsk, { zone: tz }).toFormat('yyyy-MM-dd HH:mm'),
            }),
          );
        },
      }),
      defineSubcommand({
        name: 'off',
        zh: '关闭',
        aliases: ['stop'],
        role: 'secretary',
        async run(ctx) {
          const stopped = await db.$transaction((tx) => stop(tx, ctx.platform, ctx.event.chat.id));
          await ctx.reply(t(stopped ? 'supervision.standup.stopped' : 'supervision.standup.none'));
        },
      }),
    ],
  });

  const reportCommand = defineCommand({
    name: 'report',
    zh: '汇报',
    summaryKey: 'cmd.report.summary',
    usageKey: 'cmd.report.usage',
    scope: 'any',
    role: 'member',
    positionals: ['...text'],
    args: z.object({ text: z.string({ message: 'supervision.report.empty' }) }),
    async run(ctx, { text }) {
      await ctx.reply(await save(ctx.identity, ctx.platform, ctx.event.chat, text));
    },
  });

  const reportAction = defineAction({
    id: 'supervision.standup.report',
    payload: ref,
    form: z.object({ text: z.string().max(2000).optional() }),
    async run(ctx, _p, form) {
      return {
        toast: { kind: 'success', text: await save(ctx.identity, ctx.platform, ctx.event.chat, form.text ?? '') },
      };
    },
  });

  return { commands: [standupCommand, reportCommand], actions: [reportAction], jobs: [askJob, summaryJob], stop };
}
