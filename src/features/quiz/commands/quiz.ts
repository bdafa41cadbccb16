import { z } from 'zod';
import { defineCommand, defineSubcommand } from '../../../bot/commands.ts';
import { DEFAULT_SECONDS } from '../contest.ts';
import { usage, wordsOf, type QuizParts } from './parts.ts';

/** 出题: start a live contest in the group, or stop the running one. */
export function quizCommand({ contests }: QuizParts) {
  const stop = defineSubcommand({
    name: 'stop',
    zh: '停止',
    aliases: ['end', '结束', '终止'],
    async run(ctx) {
      const stopped = await contests.stop(ctx.platform, ctx.event.chat.id, ctx.identity.timezone);
      await ctx.reply(
        stopped ? ctx.t('quiz.contest.stopped', { seq: stopped.seq }) : ctx.t('quiz.contest.none_running'),
      );
    },
  });

  return defineCommand({
    name: 'quiz',
    zh: '出题',
    aliases: ['抢答', 'contest'],
    summaryKey: 'cmd.quiz.summary',
    usageKey: 'cmd.quiz.usage',
    scope: 'group',
    role: 'secretary',
    subcommands: [stop],
    positionals: ['first', '...rest'],
    args: z.object({ first: z.string({ message: 'quiz.usage.count_required' }), rest: z.string().optional() }),
    async run(ctx, { first, rest }) {
      const count = Number(first.normalize('NFKC'));
      if (!Number.isInteger(count) || count < 1 || count > 30)
        throw usage(ctx, ctx.t('quiz.contest.bad_count'), 'cmd.quiz.usage');
      let seconds = DEFAULT_SECONDS;
      let tag: string | null = null;
      for (const token of wordsOf(rest)) {
        const s = /^(\d+)(秒|s|sec|秒钟)$/i.exec(token.normalize('NFKC'));
        if (s) {
          seconds = Number(s[1]);
          if (seconds < 10 || seconds > 120) throw usage(ctx, ctx.t('quiz.contest.bad_seconds'), 'cmd.quiz.usage');
        } else if (tag === null) tag = token;
        else throw usage(ctx, ctx.t('quiz.contest.extra', { token }), 'cmd.quiz.usage');
      }
      await contests.start({
        orgId: ctx.identity.orgId,
        tz: ctx.identity.timezone,
        platform: ctx.platform,
        chatId: ctx.event.chat.id,
        memberId: ctx.identity.memberId,
        count,
        tag,
        seconds,
      });
    },
  });
}
