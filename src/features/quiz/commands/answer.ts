import { z } from 'zod';
import { defineCommand } from '../../../bot/commands.ts';
import { UserError } from '../../../bot/errors.ts';
import { who, type QuizParts } from './parts.ts';

/** 答: a typed answer, to the contest question open in the group or the test question a member is on. */
export function answerCommand({ deps, contests, exams, play }: QuizParts) {
  return defineCommand({
    name: 'answer',
    zh: '答',
    aliases: ['答题', 'ans'],
    summaryKey: 'cmd.answer.summary',
    usageKey: 'cmd.answer.usage',
    scope: 'any',
    role: 'member',
    positionals: ['...text'],
    args: z.object({ text: z.string({ message: 'quiz.usage.answer_required' }) }),
    async run(ctx, { text }) {
      const mention = [{ id: ctx.event.sender.id, name: ctx.identity.displayName }];
      if (ctx.event.chat.kind === 'group') {
        const open = await contests.openQuestionIn(ctx.platform, ctx.event.chat.id);
        if (!open) throw new UserError('quiz.answer.nothing_open_group');
        if (open.position === null) throw new UserError('quiz.answer.too_late');
        const r = await play.answer(who(ctx), open.round.id, open.position, text);
        await ctx.reply(`@${ctx.identity.displayName} ${r.ack.toast?.text ?? ''}`, { mentions: mention });
        return;
      }
      // In a private chat: the question the member is on in their open test attempt.
      const attempt = await deps.db.quizAttempt.findFirst({
        where: { memberId: ctx.identity.memberId, status: 'open', deadline: { gt: deps.clock.now() } },
        orderBy: { startedAt: 'desc' },
      });
      if (!attempt) throw new UserError('quiz.answer.nothing_open_direct');
      const round = await deps.db.quizRound.findUniqueOrThrow({ where: { id: attempt.roundId } });
      const next = await exams.nextQuestionCard(deps.db, round, attempt, ctx.identity.timezone);
      if (!next) throw new UserError('quiz.test.finished', { seq: round.seq });
      const r = await play.answer(who(ctx), round.id, next.position, text);
      if (r.ack.toast) await ctx.reply(r.ack.toast.text);
      if (r.replaceCard) await ctx.replyCard(r.replaceCard);
    },
  });
}
