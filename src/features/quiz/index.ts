import { z } from 'zod';
import { defineAction } from '../../bot/actions.ts';
import { defineCommand } from '../../bot/commands.ts';
import type { ActionContext, CommandContext, LeftChat, PausedLine } from '../../bot/context.ts';
import { defineFeature, type Feature, type FeatureDeps } from '../../bot/feature.ts';
import { quiz as quizMessages } from '../../messages/zh-CN/quiz.ts';
import { UserError } from '../../bot/errors.ts';
import type { Tx } from '../../lib/db.ts';
import { normalizeName } from '../../bot/command-parser.ts';
import { createAnswerStore, type AnswerStore } from './answer-store.ts';
import { createBoards } from './board.ts';
import { createContests, DEFAULT_SECONDS } from './contest.ts';
import { createDaily } from './daily.ts';
import { createExams } from './exam.ts';
import { createMistakes } from './mistakes.ts';
import { createPlay } from './play.ts';
import { rawChoice, type QuizDeps } from './shared.ts';
import { formatLocal, localParts, parseLocalDateTime, type PeriodKind } from './time.ts';

/**
 * Quizzes, the play side: live contests, daily practice, closed-book tests
 * with make-ups, leaderboards and the star learner, the wrong-answer
 * notebook. (The question bank itself is features/quiz/bank.)
 */
const STOP = new Set(['stop', 'end', '停止', '结束', '终止']);
const ON = new Set(['on', 'enable', 'start', '开启', '打开', '启用']);
const OFF = new Set(['off', 'disable', '关闭', '停止', '停用']);
const STATUS = new Set(['status', 'show', '状态', '查看']);
const PRIVATE = new Set(['private', 'dm', '私聊', '私信']);
const SCHEDULE = new Set(['new', 'schedule', 'add', '安排', '新建', '发布']);
const RESULTS = new Set(['results', 'result', '结果', '成绩']);
const EXPORT = new Set(['export', '导出']);
const LIST = new Set(['list', 'ls', '列表', '查看']);

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

export function createQuizFeature(kit: FeatureDeps): Feature {
  const answers: AnswerStore = createAnswerStore({ db: kit.db, provider: kit.provider, log: kit.log });
  const deps: QuizDeps = { ...kit, answers };
  const contests = createContests(deps);
  const daily = createDaily(deps);
  const exams = createExams(deps);
  const boards = createBoards(deps);
  const mistakes = createMistakes(deps);
  const play = createPlay({ ...deps, contests, daily, exams });

  const who = (ctx: CommandContext | ActionContext) => ({
    orgId: ctx.identity.orgId,
    memberId: ctx.identity.memberId,
    unitId: ctx.identity.unitId,
    tz: ctx.identity.timezone,
  });

  const usage = (ctx: CommandContext, problem: string, usageKey: Parameters<CommandContext['t']>[0]) =>
    new UserError('error.usage', { problem, usage: ctx.t(usageKey) });

  // ---- quiz / 出题 ------------------------------------------------------------
  const quiz = defineCommand({
    name: 'quiz',
    zh: '出题',
    aliases: ['抢答', 'contest'],
    summaryKey: 'cmd.quiz.summary',
    usageKey: 'cmd.quiz.usage',
    scope: 'group',
    role: 'secretary',
    positionals: ['first', '...rest'],
    args: z.object({ first: z.string({ message: '请写明题数，例如：出题 10' }), rest: z.string().optional() }),
    async run(ctx, { first, rest }) {
      if (STOP.has(normalizeName(first))) {
        const stopped = await contests.stop(ctx.platform, ctx.event.chat.id, ctx.identity.timezone);
        await ctx.reply(
          stopped ? ctx.t('quiz.contest.stopped', { seq: stopped.seq }) : ctx.t('quiz.contest.none_running'),
        );
        return;
      }
      const count = Number(first.normalize('NFKC'));
      if (!Number.isInteger(count) || count < 1 || count > 30)
        throw usage(ctx, ctx.t('quiz.contest.bad_count'), 'cmd.quiz.usage');
      let seconds = DEFAULT_SECONDS;
      let tag: string | null = null;
      for (const token of (rest ?? '').split(' ').filter(Boolean)) {
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

  // ---- answer / 答 -------------------------------------------------------------
  const answerCommand = defineCommand({
    name: 'answer',
    zh: '答',
    aliases: ['答题', 'ans'],
    summaryKey: 'cmd.answer.summary',
    usageKey: 'cmd.answer.usage',
    scope: 'any',
    role: 'member',
    positionals: ['...text'],
    args: z.object({ text: z.string({ message: '请写上答案，例如：答 B' }) }),
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
      const attempt = await kit.db.quizAttempt.findFirst({
        where: { memberId: ctx.identity.memberId, status: 'open', deadline: { gt: kit.clock.now() } },
        orderBy: { startedAt: 'desc' },
      });
      if (!attempt) throw new UserError('quiz.answer.nothing_open_direct');
      const round = await kit.db.quizRound.findUniqueOrThrow({ where: { id: attempt.roundId } });
      const next = await exams.nextQuestionCard(kit.db, round, attempt, ctx.identity.timezone);
      if (!next) throw new UserError('quiz.test.finished', { seq: round.seq });
      const r = await play.answer(who(ctx), round.id, next.position, text);
      if (r.ack.toast) await ctx.reply(r.ack.toast.text);
      if (r.replaceCard) await ctx.replyCard(r.replaceCard);
    },
  });

  // ---- rank / 排行榜 -------------------------------------------------------------
  const rank = defineCommand({
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
      for (const w of (words ?? '').split(' ').filter(Boolean)) {
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
      await ctx.replyCard(card);
    },
  });

  // ---- star / 学习之星 -------------------------------------------------------------
  const star = defineCommand({
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
        .regex(/^\d{4}年?$/, '年份写成四位数字，例如 2026')
        .transform((y) => Number(y.slice(0, 4)))
        .optional(),
    }),
    async run(ctx, { year }) {
      const y = year ?? localParts(kit.clock.now(), ctx.identity.timezone).year;
      const s = await boards.star(ctx.identity.orgId, y);
      if (!s) {
        await ctx.reply(ctx.t('quiz.star.none', { year: y }));
        return;
      }
      await ctx.replyCard(
        kit.cards.render('quiz-notice', {
          title: ctx.t('quiz.star.title', { year: y }),
          colour: 'red',
          text: ctx.t('quiz.star.text', { name: s.name, correct: s.correct, answered: s.answered }),
          fields: [],
          table: null,
          note: ctx.t('quiz.board.rule'),
          controls: [],
        }),
      );
    },
  });

  // ---- daily / 每日一练 -------------------------------------------------------------
  const dailyCommand = defineCommand({
    name: 'daily',
    zh: '每日一练',
    summaryKey: 'cmd.daily.summary',
    usageKey: 'cmd.daily.usage',
    scope: 'group',
    role: 'secretary',
    positionals: ['verb', '...rest'],
    args: z.object({ verb: z.string({ message: '请写明 开启、关闭 或 状态' }), rest: z.string().optional() }),
    async run(ctx, { verb, rest }) {
      const v = normalizeName(verb);
      const tz = ctx.identity.timezone;
      if (OFF.has(v)) {
        const off = await daily.disable(ctx.platform, ctx.event.chat.id);
        await ctx.reply(ctx.t(off ? 'quiz.daily.off' : 'quiz.daily.not_on'));
        return;
      }
      if (STATUS.has(v)) {
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
        return;
      }
      if (!ON.has(v)) throw usage(ctx, ctx.t('quiz.daily.bad_verb', { verb }), 'cmd.daily.usage');
      let time: string | null = null;
      let count = 5;
      let tag: string | null = null;
      let priv = false;
      for (const token of (rest ?? '').split(' ').filter(Boolean)) {
        const n = token.normalize('NFKC');
        if (/^\d{1,2}[:：]\d{2}$/.test(n)) time = n;
        else if (/^\d+(题|道)?$/.test(n)) count = parseInt(n, 10);
        else if (PRIVATE.has(normalizeName(n))) priv = true;
        else if (tag === null) tag = token;
        else throw usage(ctx, ctx.t('quiz.contest.extra', { token }), 'cmd.daily.usage');
      }
      if (!time) throw usage(ctx, ctx.t('quiz.daily.need_time'), 'cmd.daily.usage');
      if (count < 1 || count > 20) throw usage(ctx, ctx.t('quiz.daily.bad_count'), 'cmd.daily.usage');
      const { next } = await daily.enable({
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

  // ---- mistakes / 错题 -------------------------------------------------------------
  const mistakesCommand = defineCommand({
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

  // ---- test / 测试 -------------------------------------------------------------
  const KEYWORDS: Record<string, 'open' | 'close' | 'minutes' | 'makeup' | 'title'> = {
    open: 'open',
    开始: 'open',
    close: 'close',
    截止: 'close',
    结束: 'close',
    minutes: 'minutes',
    限时: 'minutes',
    makeup: 'makeup',
    补考: 'makeup',
    title: 'title',
    标题: 'title',
  };
  const test = defineCommand({
    name: 'test',
    zh: '测试',
    aliases: ['闭卷测试', 'exam'],
    summaryKey: 'cmd.test.summary',
    usageKey: 'cmd.test.usage',
    scope: 'any',
    role: 'secretary',
    positionals: ['verb', '...rest'],
    args: z.object({ verb: z.string({ message: '请写明 安排、结果 或 导出' }), rest: z.string().optional() }),
    async run(ctx, { verb, rest }) {
      const v = normalizeName(verb);
      const tz = ctx.identity.timezone;
      const tokens = (rest ?? '').split(' ').filter(Boolean);
      if (RESULTS.has(v) || EXPORT.has(v)) {
        const seq = Number((tokens[0] ?? '').replace(/^第|场$/g, ''));
        if (!Number.isInteger(seq) || seq < 1 || tokens.length !== 1)
          throw usage(ctx, ctx.t('quiz.test.need_seq'), 'cmd.test.usage');
        const round = await exams.findBySeq(ctx.identity.orgId, seq);
        if (round.orgId !== ctx.identity.orgId) throw new UserError('quiz.test.unknown_seq', { seq });
        // The sheet goes where the secretary asked, so the link must work on this platform.
        const download = await exams.resultsDownload(kit.db, round, tz, ctx.platform);
        if (EXPORT.has(v)) await ctx.replyCard(exams.exportCard(round, download));
        else await ctx.replyCard(await exams.resultsCard(kit.db, round, tz, null, download));
        return;
      }
      if (LIST.has(v)) {
        const rounds = await kit.db.quizRound.findMany({
          where: { orgId: ctx.identity.orgId, kind: { in: ['test', 'makeup'] } },
          orderBy: { seq: 'desc' },
          take: 10,
        });
        if (rounds.length === 0) {
          await ctx.reply(ctx.t('quiz.test.list_empty'));
          return;
        }
        const lines = await Promise.all(
          rounds.map(async (r) => {
            const [invited, taken] = await Promise.all([
              kit.db.quizInvite.count({ where: { roundId: r.id } }),
              kit.db.quizAttempt.count({ where: { roundId: r.id } }),
            ]);
            return ctx.t('quiz.test.list_line', {
              seq: r.seq,
              kind: ctx.t(r.kind === 'makeup' ? 'quiz.makeup.title' : 'quiz.test.title'),
              title: r.title,
              status: ctx.t(`quiz.status.${r.status as 'scheduled' | 'running' | 'closed'}`),
              opens: formatLocal(r.opensAt, tz),
              closes: r.closesAt ? formatLocal(r.closesAt, tz) : '-',
              taken,
              invited,
            });
          }),
        );
        await ctx.reply(ctx.t('quiz.test.list', { lines: lines.join('\n') }));
        return;
      }
      if (!SCHEDULE.has(v)) throw usage(ctx, ctx.t('quiz.test.bad_verb', { verb }), 'cmd.test.usage');
      const values: Partial<Record<'open' | 'close' | 'minutes' | 'makeup' | 'title', string[]>> = {};
      const free: string[] = [];
      let current: keyof typeof values | null = null;
      for (const token of tokens) {
        const key = KEYWORDS[normalizeName(token)];
        if (key) {
          current = key;
          values[key] = [];
        } else if (current) values[current]!.push(token);
        else free.push(token);
      }
      const count = Number((free[0] ?? '').normalize('NFKC').replace(/(题|道)$/, ''));
      if (!Number.isInteger(count) || count < 1 || count > 100)
        throw usage(ctx, ctx.t('quiz.test.bad_count'), 'cmd.test.usage');
      if (free.length > 2)
        throw usage(ctx, ctx.t('quiz.contest.extra', { token: free.slice(2).join(' ') }), 'cmd.test.usage');
      const tag = free[1] ?? null;
      const now = kit.clock.now();
      const when = (key: 'open' | 'close'): Date | null => {
        const text = values[key]?.join(' ');
        if (text === undefined) return null;
        const at = parseLocalDateTime(text, now, tz);
        if (!at) throw usage(ctx, ctx.t('quiz.test.bad_time', { text: text || '（空）' }), 'cmd.test.usage');
        return at;
      };
      const opensAt = when('open') ?? now;
      const closesAt = when('close');
      if (!closesAt) throw usage(ctx, ctx.t('quiz.test.need_close'), 'cmd.test.usage');
      const num = (key: 'minutes' | 'makeup', dflt: number, min: number, max: number) => {
        const text = values[key]?.join('');
        if (text === undefined) return dflt;
        const n = Number(text.normalize('NFKC').replace(/(分钟|分|小时|时|h|min)$/i, ''));
        if (!Number.isInteger(n) || n < min || n > max) {
          throw usage(
            ctx,
            ctx.t(key === 'minutes' ? 'quiz.test.bad_minutes' : 'quiz.test.bad_makeup'),
            'cmd.test.usage',
          );
        }
        return n;
      };
      const minutes = num('minutes', 30, 1, 240);
      const makeupHours = num('makeup', 48, 0, 24 * 14);
      const title =
        values.title?.join(' ') ||
        (tag ? ctx.t('quiz.test.default_title_tag', { tag }) : ctx.t('quiz.test.default_title'));
      const { seq, opensNow } = await exams.schedule({
        orgId: ctx.identity.orgId,
        tz,
        platform: ctx.platform,
        chatId: ctx.event.chat.kind === 'group' ? ctx.event.chat.id : null,
        memberId: ctx.identity.memberId,
        title,
        count,
        tag,
        opensAt,
        closesAt,
        minutes,
        makeupHours,
      });
      await ctx.reply(
        ctx.t(opensNow ? 'quiz.test.scheduled_now' : 'quiz.test.scheduled', {
          seq,
          title,
          count,
          opens: formatLocal(opensAt, tz),
          closes: formatLocal(closesAt, tz),
          minutes,
          makeup: makeupHours,
        }),
      );
    },
  });

  // ---- void / 作废 -------------------------------------------------------------
  const voidCommand = defineCommand({
    name: 'void',
    zh: '作废',
    summaryKey: 'cmd.void.summary',
    usageKey: 'cmd.void.usage',
    scope: 'any',
    role: 'secretary',
    positionals: ['seq', 'position'],
    args: z.object({
      seq: z.coerce.number({ message: '场次要写数字' }).int().min(1, '场次要写数字'),
      position: z.coerce.number({ message: '题号要写数字' }).int().min(1, '题号要写数字'),
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

  // ---- card actions -------------------------------------------------------------
  const answerAction = defineAction({
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

  const startAction = defineAction({
    id: 'quiz.test.start',
    payload: z.object({ v: z.literal(1), r: z.string().min(1).max(64) }),
    async run(ctx, payload) {
      const card = await exams.start({ roundId: payload.r, ...who(ctx) });
      await ctx.updateCard(card);
      return { card };
    },
  });

  const reviewAction = defineAction({
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

  return defineFeature({
    name: 'quiz',
    messages: quizMessages,
    commands: [quiz, answerCommand, rank, star, dailyCommand, mistakesCommand, test, voidCommand],
    actions: [answerAction, startAction, reviewAction],
    jobs: [...contests.jobs, ...daily.jobs, ...exams.jobs],
    // The bot left a group: its contest ends and its daily practice is switched off.
    async onChatLeft(chat: LeftChat, tx: Tx): Promise<PausedLine[]> {
      return [
        ...(await contests.abandon(chat.platform, chat.platformChatId, tx)),
        ...(await daily.pauseChat(chat.platform, chat.platformChatId, tx)),
        ...(await exams.detachChat(chat.platform, chat.platformChatId, tx)),
      ];
    },
    // Answers acknowledged but still in a write batch are written before the database closes.
    stop: () => answers.flush(),
  });
}
