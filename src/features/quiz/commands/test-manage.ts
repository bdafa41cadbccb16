import { z } from 'zod';
import { defineAction } from '../../../bot/actions.ts';
import { normalizeName } from '../../../bot/command-parser.ts';
import { defineSubcommand, type SubcommandSpec } from '../../../bot/commands.ts';
import type { CommandContext } from '../../../bot/context.ts';
import { UserError } from '../../../bot/errors.ts';
import type { Card } from '../../../platforms/types.ts';
import { quizNoticeCard } from '../cards.ts';
import type { RoundRow } from '../exam-results.ts';
import { formatLocal } from '../time.ts';
import { usage, wordsOf, type QuizParts } from './parts.ts';
import { parseSeq, parseTestTime, parseWholeNumber, splitKeywords } from './test-words.ts';

const rest = { positionals: ['...rest'], args: z.object({ rest: z.string().optional() }) };
/** The word that skips the confirmation card (`测试 取消 3 确认`), for those who type everything. */
const CONFIRM_WORDS = new Set(['确认', '确定', 'confirm', 'yes']);

/**
 * A test after it is set: its results and sheet (always to the asking secretary
 * privately), changing its times before it opens, and cancelling it.
 */
export function testChangeSubcommands({ deps, exams }: QuizParts): SubcommandSpec[] {
  const { db, clock, cards } = deps;

  /** Scores name people: in a group only a one-line pointer, the card goes to the secretary's private chat. */
  async function privately(ctx: CommandContext, card: Card): Promise<void> {
    if (ctx.event.chat.kind === 'direct') {
      await ctx.replyCard(card);
      return;
    }
    await ctx.replyPrivately({ card });
    await ctx.reply(ctx.t('quiz.test.sent_private', { name: ctx.identity.displayName }));
  }

  /** The test a secretary means: the number typed, or without one the latest opened test; a make-up means its test. */
  async function chosenRound(ctx: CommandContext, words: string | undefined): Promise<RoundRow> {
    const tokens = wordsOf(words);
    if (tokens.length === 0) {
      const latest = await db.quizRound.findFirst({
        // The latest with anything to show: opened, and not cancelled.
        where: { orgId: ctx.identity.orgId, kind: 'test', status: { in: ['running', 'closed'] } },
        orderBy: { seq: 'desc' },
      });
      if (!latest) throw new UserError('quiz.test.none_yet');
      return latest;
    }
    const seq = parseSeq(tokens[0]);
    if (seq === null || tokens.length !== 1) throw usage(ctx, ctx.t('quiz.test.need_seq'), 'cmd.test.usage');
    const round = await exams.findBySeq(ctx.identity.orgId, seq);
    return exams.resultsRound(db, round);
  }

  async function results(ctx: CommandContext, words: string | undefined, exportOnly: boolean) {
    const round = await chosenRound(ctx, words);
    const tz = ctx.identity.timezone;
    // The sheet goes where the secretary asked, so the link must work on this platform.
    const download = await exams.resultsDownload(db, round, tz, ctx.platform);
    await privately(
      ctx,
      exportOnly ? exams.exportCard(round, download) : await exams.resultsCard(db, round, tz, null, download),
    );
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

  const cancel = defineSubcommand({
    name: 'cancel',
    zh: '取消',
    aliases: ['撤销', '删除'],
    ...rest,
    async run(ctx, args) {
      const tokens = wordsOf(args.rest);
      const seq = parseSeq(tokens[0]);
      const confirmed = tokens.length === 2 && CONFIRM_WORDS.has(normalizeName(tokens[1]!));
      if (seq === null || (tokens.length !== 1 && !confirmed))
        throw usage(ctx, ctx.t('quiz.test.need_seq'), 'cmd.test.usage');
      const { round, invited, started } = await exams.describe(ctx.identity.orgId, seq);
      if (confirmed) {
        const done = await exams.cancel({ orgId: ctx.identity.orgId, roundId: round.id });
        await ctx.reply(ctx.t('quiz.test.cancelled', done));
        return;
      }
      const tz = ctx.identity.timezone;
      const kind = ctx.t(round.kind === 'makeup' ? 'quiz.makeup.title' : 'quiz.test.title');
      await ctx.replyCard(
        quizNoticeCard(cards, {
          title: ctx.t('quiz.test.cancel_confirm_title', { seq, kind }),
          colour: 'red',
          text: ctx.t('quiz.test.cancel_confirm', {
            title: round.title,
            status: ctx.t(`quiz.status.${round.status as 'scheduled' | 'running'}`),
            opens: formatLocal(round.opensAt, tz),
            closes: round.closesAt ? formatLocal(round.closesAt, tz) : '-',
            invited,
            started,
          }),
          note: ctx.t('quiz.test.cancel_hint', { seq }),
          controls: [
            {
              type: 'buttons',
              buttons: [
                {
                  text: ctx.t('quiz.test.cancel_button'),
                  style: 'danger',
                  actionId: 'quiz.test.cancel',
                  payload: { v: 1, r: round.id },
                },
              ],
            },
          ],
        }),
      );
    },
  });

  const change = defineSubcommand({
    name: 'change',
    zh: '修改',
    aliases: ['edit', '更改', '调整'],
    ...rest,
    async run(ctx, args) {
      const tz = ctx.identity.timezone;
      const now = clock.now();
      const bad = (problem: string) => usage(ctx, problem, 'cmd.test.usage');
      const { free, values } = splitKeywords(args.rest);
      const seq = parseSeq(free[0]);
      if (seq === null) throw bad(ctx.t('quiz.test.need_seq'));
      if (free.length > 1) throw bad(ctx.t('quiz.contest.extra', { token: free.slice(1).join(' ') }));
      const extra = (['makeup', 'title'] as const).find((k) => values[k] !== undefined);
      if (extra) throw bad(ctx.t('quiz.test.change_nothing'));
      const time = (key: 'open' | 'close') => {
        const text = values[key]?.join(' ');
        if (text === undefined) return undefined;
        return parseTestTime(
          ctx,
          text,
          now,
          tz,
          key === 'open' ? 'quiz.test.opens_in_past' : 'quiz.test.closes_in_past',
        );
      };
      const opensAt = time('open');
      const closesAt = time('close');
      const minutes = parseWholeNumber(values.minutes?.join(''));
      if (minutes !== undefined && (!Number.isInteger(minutes) || minutes < 1 || minutes > 240))
        throw bad(ctx.t('quiz.test.bad_minutes'));
      if (!opensAt && !closesAt && minutes === undefined) throw bad(ctx.t('quiz.test.change_nothing'));
      const changed = await exams.change({
        orgId: ctx.identity.orgId,
        seq,
        tz,
        ...(opensAt ? { opensAt } : {}),
        ...(closesAt ? { closesAt } : {}),
        ...(minutes !== undefined ? { minutes } : {}),
      });
      await ctx.reply(
        ctx.t('quiz.test.changed', {
          seq,
          title: changed.round.title,
          opens: formatLocal(changed.round.opensAt, tz),
          closes: formatLocal(changed.round.closesAt!, tz),
          minutes: changed.minutes,
        }),
      );
    },
  });

  return [resultsSub, exportSub, change, cancel];
}

/** The confirmation card's button: a secretary cancels the test. */
export function testCancelAction({ deps, exams }: QuizParts) {
  return defineAction({
    id: 'quiz.test.cancel',
    role: 'secretary',
    payload: z.object({ v: z.literal(1), r: z.string().min(1).max(64) }),
    async run(ctx, payload) {
      const done = await exams.cancel({ orgId: ctx.identity.orgId, roundId: payload.r });
      const text = ctx.t('quiz.test.cancelled', done);
      const card = quizNoticeCard(deps.cards, { title: text, colour: 'orange' });
      await ctx.updateCard(card);
      return { toast: { kind: 'success', text }, card };
    },
  });
}
