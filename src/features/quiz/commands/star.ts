import { z } from 'zod';
import { defineCommand } from '../../../bot/commands.ts';
import { quizNoticeCard } from '../cards.ts';
import { localParts } from '../time.ts';
import type { QuizParts } from './parts.ts';

/** 学习之星: the year's member with the most correct answers. */
export function starCommand({ deps, boards }: QuizParts) {
  return defineCommand({
    name: 'star',
    zh: '学习之星',
    summaryKey: 'cmd.star.summary',
    usageKey: 'cmd.star.usage',
    scope: 'any',
    role: 'member',
    positionals: ['year'],
    args: z.object({
      year: z
        .string()
        .regex(/^\d{4}年?$/, 'quiz.usage.year_digits')
        .transform((y) => Number(y.slice(0, 4)))
        .optional(),
    }),
    async run(ctx, { year }) {
      const y = year ?? localParts(deps.clock.now(), ctx.identity.timezone).year;
      const s = await boards.star(ctx.identity.orgId, y);
      if (!s) {
        await ctx.reply(ctx.t('quiz.star.none', { year: y }));
        return;
      }
      await ctx.replyCard(
        quizNoticeCard(deps.cards, {
          title: ctx.t('quiz.star.title', { year: y }),
          colour: 'red',
          text: ctx.t('quiz.star.text', { name: s.name, correct: s.correct, answered: s.answered }),
          note: ctx.t('quiz.board.rule'),
        }),
      );
    },
  });
}
