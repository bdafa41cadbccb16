import { z } from 'zod';
import { defineCommand, defineSubcommand } from '../../../bot/commands.ts';
import { formatLocal, localParts } from '../time.ts';
import { usage, type QuizParts } from './parts.ts';
import { testChangeSubcommands } from './test-manage.ts';
import { parseTestTime, parseWholeNumber, splitKeywords } from './test-words.ts';

const rest = { positionals: ['...rest'], args: z.object({ rest: z.string().optional() }) };

/** 测试: schedule a closed-book test, list the recent ones; see, export, change or cancel one (test-manage.ts). */
export function testCommand(parts: QuizParts) {
  const { deps, exams } = parts;
  const { db, clock } = deps;

  const list = defineSubcommand({
    name: 'list',
    zh: '列表',
    aliases: ['ls', '查看'],
    ...rest,
    async run(ctx) {
      const tz = ctx.identity.timezone;
      const rounds = await db.quizRound.findMany({
        where: { orgId: ctx.identity.orgId, kind: { in: ['test', 'makeup'] } },
        orderBy: { seq: 'desc' },
        take: 10,
      });
      if (rounds.length === 0) {
        await ctx.reply(ctx.t('quiz.test.list_empty'));
        return;
      }
      const lines = await Promise.all(
        rounds.map(async (r) => {
          const [invited, taken] = await Promise.all([
            db.quizInvite.count({ where: { roundId: r.id } }),
            db.quizAttempt.count({ where: { roundId: r.id } }),
          ]);
          // Before it opens nobody is invited yet: "已作答 0/0 人" would say nothing.
          if (r.status === 'scheduled') {
            return ctx.t('quiz.test.list_line_scheduled', {
              seq: r.seq,
              kind: ctx.t(r.kind === 'makeup' ? 'quiz.makeup.title' : 'quiz.test.title'),
              title: r.title,
              opens: formatLocal(r.opensAt, tz),
              closes: r.closesAt ? formatLocal(r.closesAt, tz) : '-',
            });
          }
          return ctx.t('quiz.test.list_line', {
            seq: r.seq,
            kind: ctx.t(r.kind === 'makeup' ? 'quiz.makeup.title' : 'quiz.test.title'),
            title: r.title,
            status: ctx.t(`quiz.status.${r.status as 'scheduled' | 'running' | 'closed'}`),
            opens: formatLocal(r.opensAt, tz),
            closes: r.closesAt ? formatLocal(r.closesAt, tz) : '-',
            taken,
            invited,
          });
        }),
      );
      await ctx.reply(ctx.t('quiz.test.list', { lines: lines.join('\n') }));
    },
  });

  const schedule = defineSubcommand({
    name: 'schedule',
    zh: '安排',
    aliases: ['new', 'add', '新建', '发布'],
    ...rest,
    async run(ctx, args) {
      const tz = ctx.identity.timezone;
      const bad = (problem: string) => usage(ctx, problem, 'cmd.test.usage');
      const { free, values } = splitKeywords(args.rest);
      const count = Number((free[0] ?? '').normalize('NFKC').replace(/(题|道)$/, ''));
      if (!Number.isInteger(count) || count < 1 || count > 100) throw bad(ctx.t('quiz.test.bad_count'));
      if (free.length > 2) throw bad(ctx.t('quiz.contest.extra', { token: free.slice(2).join(' ') }));
      const tag = free[1] ?? null;
      const now = clock.now();
      const when = (key: 'open' | 'close'): Date | null => {
        const text = values[key]?.join(' ');
        if (text === undefined) return null;
        return parseTestTime(
          ctx,
          text,
          now,
          tz,
          key === 'open' ? 'quiz.test.opens_in_past' : 'quiz.test.closes_in_past',
        );
      };
      const opensAt = when('open') ?? now;
      const closesAt = when('close');
      // A title that says something ("3月2日学习测试"), not the kind again ("闭卷测试《闭卷测试》").
      const dayOf = (at: Date) => {
        const p = localParts(at, tz);
        return `${p.month}月${p.day}日`;
      };
      if (!closesAt) throw bad(ctx.t('quiz.test.need_close'));
      const num = (key: 'minutes' | 'makeup', dflt: number, min: number, max: number) => {
        const n = parseWholeNumber(values[key]?.join(''));
        if (n === undefined) return dflt;
        if (!Number.isInteger(n) || n < min || n > max)
          throw bad(ctx.t(key === 'minutes' ? 'quiz.test.bad_minutes' : 'quiz.test.bad_makeup'));
        return n;
      };
      const minutes = num('minutes', 30, 1, 240);
      const makeupHours = num('makeup', 48, 0, 24 * 14);
      const title =
        values.title?.join(' ') ||
        (tag
          ? ctx.t('quiz.test.default_title_tag', { tag })
          : ctx.t('quiz.test.default_title', { date: dayOf(opensAt) }));
      const { seq, opensNow } = await exams.schedule({
        orgId: ctx.identity.orgId,
        tz,
        platform: ctx.platform,
        chatId: ctx.event.chat.kind === 'group' ? ctx.event.chat.id : null,
        memberId: ctx.identity.memberId,
        title,
        count,
        tag,
        opensAt,
        closesAt,
        minutes,
        makeupHours,
      });
      const details = ctx.t(opensNow ? 'quiz.test.scheduled_now' : 'quiz.test.scheduled', {
        seq,
        title,
        count,
        opens: formatLocal(opensAt, tz),
        closes: formatLocal(closesAt, tz),
        minutes,
        makeup: makeupHours,
      });
      if (ctx.event.chat.kind !== 'group') {
        await ctx.reply(details);
        return;
      }
      // The details ("results go to you") are the secretary's; the group gets one announcement:
      // the opening notice (sent as the test opens) or, for a later start, when it will open.
      await ctx.replyPrivately(details);
      if (!opensNow) {
        await ctx.reply(
          ctx.t('quiz.test.scheduled_group', {
            seq,
            opens: formatLocal(opensAt, tz),
            closes: formatLocal(closesAt, tz),
          }),
        );
      }
    },
  });

  return defineCommand({
    name: 'test',
    zh: '测试',
    aliases: ['闭卷测试', 'exam'],
    summaryKey: 'cmd.test.summary',
    usageKey: 'cmd.test.usage',
    scope: 'any',
    role: 'secretary',
    subcommands: [schedule, list, ...testChangeSubcommands(parts)],
    // No known sub-word: say which one was not understood.
    positionals: ['verb', '...rest'],
    args: z.object({ verb: z.string({ message: 'quiz.usage.test_verb_required' }), rest: z.string().optional() }),
    async run(ctx, { verb }) {
      throw usage(ctx, ctx.t('quiz.test.bad_verb', { verb }), 'cmd.test.usage');
    },
  });
}
