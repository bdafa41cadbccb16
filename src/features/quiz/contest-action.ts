import { z } from 'zod';
import { defineAction } from '../../bot/actions.ts';
import { DEFAULT_SECONDS, type Contests } from './contest.ts';

/**
 * A live contest started from a card button in the group (the reading club's
 * quiz-contest sessions put one on their last reminder): the same start as
 * `出题 <题数> [标签]`, so other families start a contest by action id and
 * payload, without importing the quiz. Secretaries only; the chat is the one
 * the card is in.
 */
export function contestStartAction(contests: Contests) {
  return defineAction({
    id: 'quiz.contest.start',
    role: 'secretary',
    payload: z.object({
      v: z.literal(1),
      tag: z.string().max(50).nullable().default(null),
      count: z.number().int().min(1).max(30).default(10),
    }),
    async run(ctx, p) {
      if (ctx.event.chat.kind !== 'group') return;
      const { seq } = await contests.start({
        orgId: ctx.identity.orgId,
        tz: ctx.identity.timezone,
        platform: ctx.platform,
        chatId: ctx.event.chat.id,
        memberId: ctx.identity.memberId,
        count: p.count,
        tag: p.tag,
        seconds: DEFAULT_SECONDS,
      });
      return { toast: { kind: 'success', text: ctx.t('quiz.contest.started_from_card', { seq }) } };
    },
  });
}
