import { z } from 'zod';
import { defineAction } from '../../bot/actions.ts';
import { who, type QuizParts } from './commands/parts.ts';
import { rawChoice } from './shared.ts';
import { testCancelAction } from './commands/test-manage.ts';

/** The quiz's card buttons: answer a question, start a test attempt, re-answer a notebook question. */
export function quizActions(parts: QuizParts) {
  const { exams, mistakes, play } = parts;
  const answer = defineAction({
    id: 'quiz.answer',
    // The answer's batch writes the click's dedupe row: one commit per batch of answers, not two.
    recordsEvent: true,
    payload: z.object({
      v: z.literal(1),
      r: z.string().min(1).max(64),
      p: z.number().int().min(1),
      c: z.string().max(16).optional(),
    }),
    async run(ctx, payload) {
      const r = await play.answer(who(ctx), payload.r, payload.p, rawChoice(payload, ctx.event.formValues), {
        platform: ctx.event.platform,
        eventKey: ctx.event.eventKey,
      });
      if (r.replaceCard) await ctx.updateCard(r.replaceCard);
      return r.ack;
    },
  });

  const start = defineAction({
    id: 'quiz.test.start',
    payload: z.object({ v: z.literal(1), r: z.string().min(1).max(64) }),
    async run(ctx, payload) {
      const card = await exams.start({ roundId: payload.r, ...who(ctx) });
      await ctx.updateCard(card);
      return { card };
    },
  });

  const review = defineAction({
    id: 'quiz.review',
    payload: z.object({ v: z.literal(1), q: z.string().min(1).max(64), c: z.string().max(16).optional() }),
    async run(ctx, payload) {
      const r = await mistakes.review(
        ctx.identity.orgId,
        ctx.identity.memberId,
        payload.q,
        rawChoice(payload, ctx.event.formValues),
      );
      if (r.card) await ctx.updateCard(r.card);
      return r.card ? { toast: r.toast, card: r.card } : { toast: r.toast };
    },
  });

  return [answer, start, review, testCancelAction(parts)];
}
