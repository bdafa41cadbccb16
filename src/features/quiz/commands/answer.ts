import { z } from 'zod';
import { defineCommand } from '../../../bot/commands.ts';
import type { CommandContext, OtherTextHook } from '../../../bot/context.ts';
import { UserError } from '../../../bot/errors.ts';
import { who, type QuizParts } from './parts.ts';

/** `答b`, `答：B`, `答Ｂ`: the command word glued to the answer (after NFKC, so ： is :). */
const GLUED = /^(?:答题|答)\s*:?\s*(\S[\s\S]*)$/;

/**
 * A bare answer while a contest question is open in the group: option letters
 * (A–H, any case or width, with or without separators) or a true/false mark.
 * Checked before the database is asked, so ordinary chatter costs nothing.
 */
const BARE = /^(?:[a-h](?:[\s,，、;；/]*[a-h]){0,7}|对|错|正确|错误|√|×|✓|✗|✔|✘)$/i;

/** What follows 答: separators people put before an answer (`答 ：B`). */
const cleanAnswer = (text: string) => text.replace(/^[\s:：]+/, '').trim();

/** 答: a typed answer, to the contest question open in the group or the test question a member is on. */
export function answerCommand(parts: QuizParts) {
  const answerTyped = createTypedAnswer(parts);
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
    run: (ctx, { text }) => answerTyped(ctx, text),
  });
}

/** Answers typed without the command word standing alone: `答b`, or a bare `B` during a contest question. */
export function answerOtherText(parts: QuizParts): OtherTextHook {
  const answerTyped = createTypedAnswer(parts);
  return async (ctx) => {
    const text = ctx.event.text.normalize('NFKC').trim();
    const glued = GLUED.exec(text);
    if (glued) {
      await answerTyped(ctx, glued[1]!);
      return true;
    }
    if (ctx.event.chat.kind !== 'group' || !BARE.test(text)) return false;
    const open = await parts.contests.openQuestionIn(ctx.platform, ctx.event.chat.id);
    // Only while a question is open: at any other time a lone "B" is not meant for the quiz.
    if (!open || open.position === null) return false;
    // A fill-in question is answered with 答 only: a lone word is too likely to be chatter.
    const rq = await parts.deps.db.quizRoundQuestion.findUnique({
      where: { roundId_position: { roundId: open.round.id, position: open.position } },
      select: { questionId: true },
    });
    const q = rq && (await parts.deps.db.question.findUnique({ where: { id: rq.questionId }, select: { type: true } }));
    if (!q || q.type === 'fill') return false;
    await answerTyped(ctx, text);
    return true;
  };
}

function createTypedAnswer({ deps, contests, exams, play }: QuizParts) {
  return async function answerTyped(ctx: CommandContext, typed: string): Promise<void> {
    const text = cleanAnswer(typed);
    if (!text) throw new UserError('quiz.usage.answer_required');
    if (ctx.event.chat.kind === 'group') {
      const open = await contests.openQuestionIn(ctx.platform, ctx.event.chat.id);
      if (!open) throw new UserError('quiz.answer.nothing_open_group');
      if (open.position === null) throw new UserError('quiz.answer.too_late');
      const { seq } = open.round;
      const { position } = open;
      const r = await play.answer(
        who(ctx),
        open.round.id,
        position,
        text,
        // The message processed again after a crash finds this key: a replay, already answered.
        // Its own key: the message's own may be a dedupe row of the dispatcher's already.
        { platform: ctx.platform, eventKey: `answer:${ctx.event.eventKey}` },
        // Quietly, to the member only (an answer echoed in the group is an answer others can
        // copy), and in the answer's transaction: a stored answer never loses its reply.
        (tx, recorded) =>
          ctx.replyPrivately(ctx.t('quiz.contest.recorded_typed', { seq, position, ...recorded }), { tx }),
      );
      // Written in the answer's transaction, which does not wake the outbox worker.
      if (r.recorded) deps.outbox.wake();
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
  };
}
