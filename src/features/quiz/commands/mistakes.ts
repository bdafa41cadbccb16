import { defineCommand } from '../../../bot/commands.ts';
import type { QuizParts } from './parts.ts';

/** 错题: the member's wrong-answer notebook, always privately. */
export function mistakesCommand({ mistakes }: QuizParts) {
  return defineCommand({
    name: 'mistakes',
    zh: '错题',
    aliases: ['错题本'],
    summaryKey: 'cmd.mistakes.summary',
    usageKey: 'cmd.mistakes.usage',
    scope: 'any',
    role: 'member',
    async run(ctx) {
      const card = await mistakes.card(ctx.identity.orgId, ctx.identity.memberId);
      if (ctx.event.chat.kind === 'direct') {
        await ctx.replyCard(card);
        return;
      }
      // Someone's mistakes are their own business: the notebook goes to a private chat.
      await ctx.replyPrivately({ card });
      await ctx.reply(ctx.t('quiz.mistakes.sent_private', { name: ctx.identity.displayName }));
    },
  });
}
