import { z } from 'zod';
import { normalizeName } from '../../../bot/command-parser.ts';
import { defineCommand, defineSubcommand } from '../../../bot/commands.ts';
import type { CommandContext } from '../../../bot/context.ts';
import { UserError } from '../../../bot/errors.ts';
import { formatLocal, parseLocalDateTime } from '../time.ts';
import { usage, wordsOf, type QuizParts } from './parts.ts';

type Keyword = 'open' | 'close' | 'minutes' | 'makeup' | 'title';
// The keywords of `测试 安排`, each followed by its value (input grammar).
const KEYWORDS: Record<string, Keyword> = {
  open: 'open',
  开始: 'open',
  close: 'close',
  截止: 'close',
  结束: 'close',
  minutes: 'minutes',
  限时: 'minutes',
  makeup: 'makeup',
  补考: 'makeup',
  title: 'title',
  标题: 'title',
};

const rest = { positionals: ['...rest'], args: z.object({ rest: z.string().optional() }) };

/** 测试: schedule a closed-book test, list the recent ones, see or export a test's results. */
export function testCommand({ deps, exams }: QuizParts) {
  const { db, clock } = deps;

  async function results(ctx: CommandContext, words: string | undefined, exportOnly: boolean) {
    const tokens = wordsOf(words);
    const seq = Number((tokens[0] ?? '').replace(/^第|场$/g, ''));
    if (!Number.isInteger(seq) || seq < 1 || tokens.length !== 1)
      throw usage(ctx, ctx.t('quiz.test.need_seq'), 'cmd.test.usage');
    const round = await exams.findBySeq(ctx.identity.orgId, seq);
    if (round.orgId !== ctx.identity.orgId) throw new UserError('quiz.test.unknown_seq', { seq });
    const tz = ctx.identity.timezone;
    // The sheet goes where the secretary asked, so the link must work on this platform.
    const download = await exams.resultsDownload(db, round, tz, ctx.platform);
    if (exportOnly) await ctx.replyCard(exams.exportCard(round, download));
    else await ctx.replyCard(await exams.resultsCard(db, round, tz, null, download));
  }

  const resultsSub = defineSubcommand({
    name: 'results',
    zh: '结果',
    aliases: ['result', '成绩'],
    ...rest,
    run: (ctx, args) => results(ctx, args.rest, false),
  });
  const exportSub = defineSubcommand({
    name: 'export',
    zh: '导出',
    ...rest,
    run: (ctx, args) => results(ctx, args.rest, true),
  });

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
      const values: Partial<Record<Keyword, string[]>> = {};
      const free: string[] = [];
      let current: Keyword | null = null;
      for (const token of wordsOf(args.rest)) {
        const key = KEYWORDS[normalizeName(token)];
        if (key) {
          current = key;
          values[key] = [];
        } else if (current) values[current]!.push(token);
        else free.push(token);
      }
      const count = Number((free[0] ?? '').normalize('NFKC').replace(/(题|道)$/, ''));
      if (!Number.isInteger(count) || count < 1 || count > 100) throw bad(ctx.t('quiz.test.bad_count'));
      if (free.length > 2) throw bad(ctx.t('quiz.contest.extra', { token: free.slice(2).join(' ') }));
      const tag = free[1] ?? null;
      const now = clock.now();
      const when = (key: 'open' | 'close'): Date | null => {
        const text = values[key]?.join(' ');
        if (text === undefined) return null;
        const at = parseLocalDateTime(text, now, tz);
        if (!at) throw bad(ctx.t('quiz.test.bad_time', { text: text || ctx.t('quiz.test.empty_time') }));
        return at;
      };
      const opensAt = when('open') ?? now;
      const closesAt = when('close');
      if (!closesAt) throw bad(ctx.t('quiz.test.need_close'));
      const num = (key: 'minutes' | 'makeup', dflt: number, min: number, max: number) => {
        const text = values[key]?.join('');
        if (text === undefined) return dflt;
        const n = Number(text.normalize('NFKC').replace(/(分钟|分|小时|时|h|min)$/i, ''));
        if (!Number.isInteger(n) || n < min || n > max)
          throw bad(ctx.t(key === 'minutes' ? 'quiz.test.bad_minutes' : 'quiz.test.bad_makeup'));
        return n;
      };
      const minutes = num('minutes', 30, 1, 240);
      const makeupHours = num('makeup', 48, 0, 24 * 14);
      const title =
        values.title?.join(' ') ||
        (tag ? ctx.t('quiz.test.default_title_tag', { tag }) : ctx.t('quiz.test.default_title'));
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
    subcommands: [schedule, list, resultsSub, exportSub],
    // No known sub-word: say which one was not understood.
    positionals: ['verb', '...rest'],
    args: z.object({ verb: z.string({ message: 'quiz.usage.test_verb_required' }), rest: z.string().optional() }),
    async run(ctx, { verb }) {
      throw usage(ctx, ctx.t('quiz.test.bad_verb', { verb }), 'cmd.test.usage');
    },
  });
}
