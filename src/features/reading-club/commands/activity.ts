import { z } from 'zod';
import { defineSubcommand, type SubcommandSpec } from '../../../bot/commands.ts';
import type { CommandContext } from '../../../bot/context.ts';
import { DOCX_CONTENT_TYPE, MARKDOWN_CONTENT_TYPE } from '../../../bot/downloads.ts';
import { UserError } from '../../../bot/errors.ts';
import { percent, sessionAttendance, yearAttendance } from '../attendance.ts';
import { absenceCard, build, checkinCard, rateCard } from '../cards.ts';
import type { Club } from '../core.ts';
import { loadSettings, localTime } from '../model.ts';
import type { Participation } from '../participation.ts';
import { latestStarted, sessionBySeq, sessionEndsAt } from '../sessions.ts';
import { gatherYearbook, yearbookDocx, yearbookMarkdown } from '../yearbook.ts';

const seqOpt = z.coerce
  .number({ message: 'usage.number_required' })
  .int()
  .positive({ message: 'usage.number_positive' })
  .optional();
const yearSchema = z.coerce
  .number({ message: 'club.usage.year' })
  .int()
  .min(2000, { message: 'club.usage.year' })
  .max(2100, { message: 'club.usage.year' });

/** Sign-in card, attendance, notes status, topics, ratings and the yearbook. */
export function activitySubcommands(club: Club, part: Participation): SubcommandSpec[] {
  const { db, clock } = club.deps;
  const t = club.deps.messages.t;

  async function sessionOrLatest(ctx: CommandContext, seq?: number) {
    if (seq !== undefined) return sessionBySeq(db, ctx.identity.orgId, seq);
    const s = await latestStarted(db, ctx.identity.orgId, clock.now());
    if (!s) throw new UserError('club.note.no_session');
    return s;
  }

  const open = defineSubcommand({
    name: 'open',
    zh: '开始',
    role: 'secretary',
    scope: 'group',
    positionals: ['seq'],
    args: z.object({ seq: seqOpt }),
    async run(ctx, { seq }) {
      const s =
        seq !== undefined ? await sessionBySeq(db, ctx.identity.orgId, seq) : await sessionOrLatestUpcoming(ctx);
      const settings = await loadSettings(db, ctx.identity.orgId);
      const u = await club.units(db, ctx.identity.orgId);
      await ctx.replyCard(
        checkinCard(
          { t, cards: club.deps.cards },
          s,
          ctx.identity.timezone,
          u.name(s.unitId),
          localTime(sessionEndsAt(s, settings), ctx.identity.timezone).slice(-5),
        ),
      );
    },
  });

  async function sessionOrLatestUpcoming(ctx: CommandContext) {
    const now = clock.now();
    const s =
      (await db.clubSession.findFirst({
        where: { orgId: ctx.identity.orgId, startsAt: { gte: new Date(now.getTime() - 12 * 3_600_000) } },
        orderBy: { startsAt: 'asc' },
      })) ?? null;
    if (!s) throw new UserError('club.checkin.not_open', { seq: 0, opens: '' });
    return s;
  }

  const attendance = defineSubcommand({
    name: 'attendance',
    zh: '考勤',
    aliases: ['出勤'],
    role: 'secretary',
    positionals: ['which'],
    args: z.object({ which: z.coerce.number({ message: 'usage.number_required' }).int().positive().optional() }),
    async run(ctx, { which }) {
      // A four-digit number is a year (the year's 场次/人次); anything else a session's 期数.
      if (which !== undefined && which >= 2000) {
        const y = await yearAttendance(db, ctx.identity.orgId, which, clock.now());
        const card = build({
          header: { title: t('club.attendance.year_title', { year: which }), colour: 'orange' },
          elements: [
            {
              type: 'markdown',
              text: t('club.attendance.year_summary', { sessions: y.sessions, personTimes: y.personTimes }),
            },
            {
              type: 'table',
              columns: [t('club.col.unit'), t('club.col.person_times'), t('club.col.rate')],
              rows: y.perUnit.map((u) => [u.unit, String(u.personTimes), percent(u.rate)]),
            },
            {
              type: 'table',
              columns: [t('club.col.member'), t('club.col.unit'), t('club.col.attended'), t('club.col.rate')],
              rows: y.perMember.map((m) => [m.name, m.unit, String(m.attended), percent(m.rate)]),
            },
          ],
        });
        await ctx.replyPrivately({ card });
        return;
      }
      const s = await sessionOrLatest(ctx, which);
      await ctx.replyPrivately({ card: absenceCard(t, s, await sessionAttendance(db, s)) });
    },
  });

  const notes = defineSubcommand({
    name: 'notes',
    zh: '心得情况',
    aliases: ['心得统计'],
    role: 'secretary',
    positionals: ['seq'],
    args: z.object({ seq: seqOpt }),
    async run(ctx, { seq }) {
      const s = await sessionOrLatest(ctx, seq);
      const members = await db.member.findMany({
        where: { orgId: ctx.identity.orgId },
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      });
      const handed = new Set((await db.clubNote.findMany({ where: { sessionId: s.id } })).map((n) => n.memberId));
      const done = members.filter((m) => handed.has(m.id)).map((m) => m.displayName);
      const missing = members.filter((m) => !handed.has(m.id)).map((m) => m.displayName);
      await ctx.replyPrivately({
        card: build({
          header: { title: t('club.notes.title', { seq: s.seq }), colour: 'blue' },
          elements: [
            {
              type: 'fields',
              fields: [
                { label: t('club.notes.done', { count: done.length }), value: done.join('、') || t('club.none') },
                {
                  label: t('club.notes.missing', { count: missing.length }),
                  value: missing.join('、') || t('club.none'),
                },
              ],
            },
            ...(missing.length
              ? [
                  {
                    type: 'buttons' as const,
                    buttons: [
                      {
                        text: t('club.notes.remind_button'),
                        style: 'primary' as const,
                        actionId: 'club.notes.remind',
                        payload: { v: 1, seq: s.seq },
                      },
                    ],
                  },
                ]
              : []),
          ],
        }),
      });
    },
  });

  const topic = defineSubcommand({
    name: 'topic',
    zh: '点单',
    role: 'member',
    positionals: ['...text'],
    args: z.object({ text: z.string().optional() }),
    async run(ctx, { text }) {
      if (text) {
        const seq = await part.suggestTopic(ctx.identity, text);
        await ctx.reply(t('club.topic.added', { seq, text: text.trim() }));
        return;
      }
      const ranked = await part.rankedTopics(ctx.identity.orgId);
      if (ranked.length === 0) return void (await ctx.reply(t('club.topic.none')));
      await ctx.replyCard(
        build({
          header: { title: t('club.topic.title'), colour: 'purple' },
          elements: [
            {
              type: 'table',
              columns: [t('club.col.seq'), t('club.col.topic'), t('club.col.votes')],
              rows: ranked.map((r) => [String(r.seq), r.text, String(r.votes)]),
            },
            {
              type: 'choice',
              name: 'seq',
              options: ranked
                .slice(0, 10)
                .map((r) => ({ value: String(r.seq), text: `${r.seq}. ${r.text}`.slice(0, 60) })),
              submitText: t('club.topic.support_button'),
              actionId: 'club.topic.support',
              payload: { v: 1 },
            },
          ],
        }),
      );
    },
  });

  const rate = defineSubcommand({
    name: 'rate',
    zh: '评分',
    aliases: ['评单'],
    role: 'member',
    usageKey: 'club.usage.rate',
    positionals: ['score', '...comment'],
    args: z.object({ score: z.string().optional(), comment: z.string().optional() }),
    async run(ctx, { score, comment }) {
      if (score === undefined) {
        const s = await part.archiveSession(ctx.identity);
        await ctx.replyPrivately({ card: rateCard(t, s) });
        return;
      }
      const n = Number(score.normalize('NFKC').replace(/分$/, ''));
      const s = await part.rate(ctx.identity, n, comment?.trim() ?? '');
      await ctx.replyPrivately(t('club.rate.done', { seq: s.seq, score: n }));
    },
  });

  const ratings = defineSubcommand({
    name: 'ratings',
    zh: '评分情况',
    role: 'secretary',
    positionals: ['seq'],
    args: z.object({ seq: seqOpt }),
    async run(ctx, { seq }) {
      const s = await sessionOrLatest(ctx, seq);
      const rows = await db.clubRating.findMany({ where: { sessionId: s.id }, orderBy: { at: 'asc' } });
      const avg = rows.length ? rows.reduce((a, r) => a + r.score, 0) / rows.length : 0;
      // A distribution and unsigned comments: never who gave what.
      await ctx.replyPrivately({
        card: build({
          header: { title: t('club.ratings.title', { seq: s.seq }), colour: 'purple' },
          elements: [
            { type: 'markdown', text: t('club.ratings.summary', { count: rows.length, avg: avg.toFixed(1) }) },
            {
              type: 'chart',
              title: t('club.ratings.chart'),
              bars: [5, 4, 3, 2, 1].map((k) => ({ label: `${k}分`, value: rows.filter((r) => r.score === k).length })),
            },
            ...(rows.some((r) => r.comment)
              ? [
                  {
                    type: 'fields' as const,
                    fields: rows
                      .filter((r) => r.comment)
                      .map((r, i) => ({ label: t('club.ratings.comment', { n: i + 1 }), value: r.comment })),
                  },
                ]
              : []),
          ],
        }),
      });
    },
  });

  const yearbook = defineSubcommand({
    name: 'yearbook',
    zh: '年鉴',
    role: 'secretary',
    positionals: ['year'],
    args: z.object({ year: yearSchema.optional() }),
    async run(ctx, { year }) {
      // Without a year: the year of the latest session held (in January, last year's book).
      const y =
        year ??
        (await latestStarted(db, ctx.identity.orgId, clock.now()))?.year ??
        Number(localTime(clock.now(), ctx.identity.timezone).slice(0, 4));
      const content = await gatherYearbook(db, ctx.identity.orgId, y, clock.now(), t);
      if (content.chapters.length === 0) throw new UserError('club.plan.empty', { year: y });
      const docx = await yearbookDocx(content, t);
      const md = await yearbookMarkdown(content, t);
      await ctx.replyPrivately({
        file: { name: `${content.title}.docx`, contentType: DOCX_CONTENT_TYPE, bytes: docx },
        caption: t('club.yearbook.caption', { year: y, chapters: content.chapters.length }),
      });
      await ctx.replyPrivately({
        file: { name: `${content.title}.md`, contentType: MARKDOWN_CONTENT_TYPE, bytes: new TextEncoder().encode(md) },
      });
    },
  });

  return [open, attendance, notes, topic, rate, ratings, yearbook];
}
