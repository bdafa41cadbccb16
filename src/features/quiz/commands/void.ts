import { z } from 'zod';
import { defineCommand } from '../../../bot/commands.ts';
import { who, type QuizParts } from './parts.ts';

/** 作废: void a question with a wrong key; scores are recomputed and results re-issued. */
export function voidCommand({ play }: QuizParts) {
  return defineCommand({
    name: 'void',
    zh: '作废',
    summaryKey: 'cmd.void.summary',
    usageKey: 'cmd.void.usage',
    scope: 'any',
    role: 'secretary',
    positionals: ['seq', 'position'],
    args: z.object({
      seq: z.coerce.number({ message: 'quiz.usage.seq_number' }).int().min(1, 'quiz.usage.seq_number'),
      position: z.coerce.number({ message: 'quiz.usage.position_number' }).int().min(1, 'quiz.usage.position_number'),
    }),
    async run(ctx, { seq, position }) {
      const r = await play.voidQuestion(
        {
          ...who(ctx),
          platform: ctx.platform,
          chatId: ctx.event.chat.kind === 'group' ? ctx.event.chat.id : null,
          secretary: { kind: 'user', id: ctx.event.sender.id },
        },
        seq,
        position,
      );
      await ctx.reply(ctx.t('quiz.void.done', r));
    },
  });
}
