import { z } from 'zod';
import { normalizeName } from '../../../bot/command-parser.ts';
import { defineCommand } from '../../../bot/commands.ts';
import { UserError } from '../../../bot/errors.ts';
import type { PeriodKind } from '../time.ts';
import { usage, wordsOf, type QuizParts } from './parts.ts';

// What people type after 排行榜, in any order (input grammar, not output).
const PERIOD_WORDS: Record<string, PeriodKind> = {
  week: 'week',
  weekly: 'week',
  周: 'week',
  本周: 'week',
  周榜: 'week',
  month: 'month',
  monthly: 'month',
  月: 'month',
  本月: 'month',
  月榜: 'month',
  year: 'year',
  yearly: 'year',
  年: 'year',
  本年: 'year',
  今年: 'year',
  年度: 'year',
  年榜: 'year',
};
/** The period before the current one: 上周 / 上月 / 去年, or "last" before a period word. */
const LAST_PERIOD: Record<string, PeriodKind> = {
  上周: 'week',
  上月: 'month',
  上个月: 'month',
  去年: 'year',
  上年: 'year',
};
const LAST_WORDS = new Set(['last', 'previous', 'prev', '上']);
const UNIT_WORDS = new Set(['unit', 'units', '单位', '部门', '支部', '科室']);
const PUBLISH_WORDS = new Set(['publish', 'post', '发布', '公示']);

/** 排行榜: the week's, month's or year's board, of members or units; a secretary may publish it. */
export function rankCommand({ boards }: QuizParts) {
  return defineCommand({
    name: 'rank',
    zh: '排行榜',
    aliases: ['排名', 'board', 'leaderboard'],
    summaryKey: 'cmd.rank.summary',
    usageKey: 'cmd.rank.usage',
    scope: 'any',
    role: 'member',
    positionals: ['...words'],
    args: z.object({ words: z.string().optional() }),
    async run(ctx, { words }) {
      let period: PeriodKind = 'week';
      let scope: 'member' | 'unit' = 'member';
      let publish = false;
      let last = false;
      for (const w of wordsOf(words)) {
        const k = normalizeName(w);
        if (LAST_PERIOD[k]) {
          period = LAST_PERIOD[k];
          last = true;
        } else if (LAST_WORDS.has(k)) last = true;
        else if (PERIOD_WORDS[k]) period = PERIOD_WORDS[k];
        else if (UNIT_WORDS.has(k)) scope = 'unit';
        else if (PUBLISH_WORDS.has(k)) publish = true;
        else throw usage(ctx, ctx.t('quiz.board.bad_word', { word: w }), 'cmd.rank.usage');
      }
      if (publish && ctx.identity.role !== 'secretary') {
        throw new UserError('error.forbidden.role', { role: ctx.t('role.secretary') });
      }
      if (publish && ctx.event.chat.kind !== 'group') throw new UserError('error.scope.group');
      const card = await boards.board({
        orgId: ctx.identity.orgId,
        tz: ctx.identity.timezone,
        period,
        scope,
        memberId: ctx.identity.memberId,
        unitId: ctx.identity.unitId,
        publish,
        last,
      });
      // Everyone's scores reach a group only when a secretary publishes them (公示) on purpose.
      if (publish || ctx.event.chat.kind === 'direct') {
        await ctx.replyCard(card);
        return;
      }
      await ctx.replyPrivately({ card });
      await ctx.reply(ctx.t('quiz.board.sent_private', { name: ctx.identity.displayName }));
    },
  });
}
