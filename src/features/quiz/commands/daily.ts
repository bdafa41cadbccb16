import { z } from 'zod';
import { normalizeName } from '../../../bot/command-parser.ts';
import { defineCommand, defineSubcommand } from '../../../bot/commands.ts';
import { formatLocal } from '../time.ts';
import { usage, wordsOf, type QuizParts } from './parts.ts';

/** Words that make the daily cards private (input grammar). */
const PRIVATE = new Set(['private', 'dm', '私聊', '私信']);

/** 每日一练: switch the group's daily practice on (with its time, count, tag), off, or show it. */
export function dailyCommand({ daily }: QuizParts) {
  const on = defineSubcommand({
    name: 'on',
    zh: '开启',
    aliases: ['enable', 'start', '打开', '启用'],
    positionals: ['...rest'],
    args: z.object({ rest: z.string().optional() }),
    async run(ctx, { rest }) {
      const tz = ctx.identity.timezone;
      let time: string | null = null;
      let count = 5;
      let tag: string | null = null;
      let priv = false;
      for (const token of wordsOf(rest)) {
        const n = token.normalize('NFKC');
        if (/^\d{1,2}[:：]\d{2}$/.test(n)) time = n;
        else if (/^\d+(题|道)?$/.test(n)) count = parseInt(n, 10);
        else if (PRIVATE.has(normalizeName(n))) priv = true;
        else if (tag === null) tag = token;
        else throw usage(ctx, ctx.t('quiz.contest.extra', { token }), 'cmd.daily.usage');
      }
      if (!time) throw usage(ctx, ctx.t('quiz.daily.need_time'), 'cmd.daily.usage');
      if (count < 1 || count > 20) throw usage(ctx, ctx.t('quiz.daily.bad_count'), 'cmd.daily.usage');
      const { next, waitsFor } = await daily.enable({
        orgId: ctx.identity.orgId,
        tz,
        platform: ctx.platform,
        chatId: ctx.event.chat.id,
        memberId: ctx.identity.memberId,
        time,
        count,
        tag,
        private: priv,
      });
      if (!next) {
        // The next working day is in a year the holiday calendar does not know yet.
        await ctx.reply({ key: 'quiz.daily.on_waiting', params: { time, count, year: waitsFor ?? '' } });
        return;
      }
      await ctx.reply(
        ctx.t('quiz.daily.on', {
          time: formatLocal(next, tz, false),
          count,
          tag: tag ?? ctx.t('quiz.all_tags'),
          mode: ctx.t(priv ? 'quiz.daily.mode.private' : 'quiz.daily.mode.group'),
          next: formatLocal(next, tz),
        }),
      );
    },
  });

  const off = defineSubcommand({
    name: 'off',
    zh: '关闭',
    aliases: ['disable', '停止', '停用'],
    async run(ctx) {
      const done = await daily.disable(ctx.platform, ctx.event.chat.id);
      await ctx.reply(ctx.t(done ? 'quiz.daily.off' : 'quiz.daily.not_on'));
    },
  });

  const status = defineSubcommand({
    name: 'status',
    zh: '状态',
    aliases: ['show', '查看'],
    async run(ctx) {
      const tz = ctx.identity.timezone;
      const s = await daily.status(ctx.platform, ctx.event.chat.id);
      await ctx.reply(
        s
          ? ctx.t('quiz.daily.status', {
              time: s.plan.time,
              count: s.plan.count,
              tag: s.plan.tag ?? ctx.t('quiz.all_tags'),
              mode: ctx.t(s.plan.private ? 'quiz.daily.mode.private' : 'quiz.daily.mode.group'),
              next: s.next ? formatLocal(s.next, tz) : '-',
            })
          : ctx.t('quiz.daily.not_on'),
      );
    },
  });

  return defineCommand({
    name: 'daily',
    zh: '每日一练',
    summaryKey: 'cmd.daily.summary',
    usageKey: 'cmd.daily.usage',
    scope: 'group',
    role: 'secretary',
    subcommands: [on, off, status],
    // No known sub-word: say which one was not understood.
    positionals: ['verb', '...rest'],
    args: z.object({ verb: z.string({ message: 'quiz.usage.daily_verb_required' }), rest: z.string().optional() }),
    async run(ctx, { verb }) {
      throw usage(ctx, ctx.t('quiz.daily.bad_verb', { verb }), 'cmd.daily.usage');
    },
  });
}
