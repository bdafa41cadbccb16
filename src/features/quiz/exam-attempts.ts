import { z } from 'zod';
import { UserError } from '../../bot/errors.ts';
import { defineJob } from '../../bot/jobs.ts';
import type { MessageKey, MessageParams } from '../../bot/messages.ts';
import { isUniqueViolation, type Db, type Tx } from '../../lib/db.ts';
import { newId } from '../../lib/ids.ts';
import type { AckReply, Card } from '../../platforms/types.ts';
import { quizNoticeCard, quizTestQuestionCard } from './cards.ts';
import { createExamResults, type RoundRow } from './exam-results.ts';
import { loadQuestions } from './questions.ts';
import { answerControls, answerHint, typeLabel, type QuizDeps } from './shared.ts';
import { formatLocal } from './time.ts';
import { testSettings } from './round-settings.ts';

/**
 * A member's one attempt at a test or make-up: started by a click, timed on
 * the server (a job expires it at its deadline), one question card at a time
 * in the private chat, submitted after the last answer.
 */
export const ATTEMPT_EXPIRE = 'quiz.attempt.expire';

export function createAttempts(deps: QuizDeps) {
  const { db, clock, cards, jobs, messages } = deps;
  const t = (k: MessageKey, p?: MessageParams) => messages.t(k, p);
  const kindTitle = (kind: string) => t(kind === 'makeup' ? 'quiz.makeup.title' : 'quiz.test.title');
  const { scoreOf } = createExamResults(deps);

  /** The card showing an attempt's next unanswered question, or null when all are answered. */
  async function nextQuestionCard(
    tx: Tx | Db,
    round: RoundRow,
    attempt: { id: string; memberId: string; deadline: Date },
    tz: string,
    feedback = '',
  ): Promise<{ card: Card; position: number } | null> {
    const rqs = await tx.quizRoundQuestion.findMany({ where: { roundId: round.id }, orderBy: { position: 'asc' } });
    const answered = new Set((await deps.answers.memberAnswers(tx, round.id, attempt.memberId)).map((a) => a.position));
    const next = rqs.find((r) => !answered.has(r.position) && r.status !== 'void');
    if (!next) return null;
    const q = (await loadQuestions(tx, [next.questionId])).get(next.questionId)!;
    return {
      position: next.position,
      card: quizTestQuestionCard(cards, {
        title: kindTitle(round.kind),
        seq: round.seq,
        position: next.position,
        total: rqs.length,
        typeLabel: typeLabel(t, q),
        stem: q.stem,
        options: q.options,
        deadline: formatLocal(attempt.deadline, tz, false),
        hint: answerHint(t, q),
        feedback,
        controls: answerControls(q, 'quiz.answer', { v: 1, r: round.id, p: next.position }, t),
      }),
    };
  }

  async function finishAttempt(tx: Tx, attemptId: string, status: 'submitted' | 'expired', at: Date): Promise<boolean> {
    const { count } = await tx.quizAttempt.updateMany({
      where: { id: attemptId, status: 'open' },
      data: { status, finishedAt: at },
    });
    return count === 1;
  }

  const expireJob = defineJob({
    kind: ATTEMPT_EXPIRE,
    payload: z.object({ attemptId: z.string() }),
    async run({ tx, send }, { attemptId }) {
      const attempt = await tx.quizAttempt.findUnique({ where: { id: attemptId } });
      if (!attempt || !(await finishAttempt(tx, attemptId, 'expired', attempt.deadline))) return;
      const round = await tx.quizRound.findUniqueOrThrow({ where: { id: attempt.roundId } });
      const member = await tx.member.findUniqueOrThrow({ where: { id: attempt.memberId } });
      const s = await scoreOf(tx, round.id, attempt.memberId);
      await send.toUser(
        { platform: round.platform, userId: member.platformUserId, orgId: round.orgId },
        {
          key: 'quiz.test.expired',
          params: { seq: round.seq, correct: s.correct, total: s.total },
        },
      );
    },
  });

  return {
    jobs: [expireJob],
    finishAttempt,
    nextQuestionCard,
    scoreOf,
    /** A member starts their one attempt; the reply is the first question (or where they left off). */
    async start(input: { roundId: string; orgId: string; memberId: string; tz: string }): Promise<Card> {
      const round = await db.quizRound.findUnique({ where: { id: input.roundId } });
      if (!round || round.orgId !== input.orgId || (round.kind !== 'test' && round.kind !== 'makeup'))
        throw new UserError('quiz.round.unknown');
      if (round.status === 'scheduled')
        throw new UserError('quiz.test.not_open', { opens: formatLocal(round.opensAt, input.tz) });
      if (round.status !== 'running') throw new UserError('quiz.round.closed', { seq: round.seq });
      const invite = await db.quizInvite.findUnique({
        where: { roundId_memberId: { roundId: round.id, memberId: input.memberId } },
      });
      if (!invite) throw new UserError(round.kind === 'makeup' ? 'quiz.makeup.not_invited' : 'quiz.test.not_invited');
      const now = clock.now();
      const settings = testSettings.parse(round.settings);
      const deadline = new Date(Math.min(now.getTime() + settings.minutes * 60_000, round.closesAt!.getTime()));
      let attempt;
      try {
        attempt = await db.$transaction(async (tx) => {
          const a = await tx.quizAttempt.create({
            data: {
              id: newId(),
              orgId: round.orgId,
              roundId: round.id,
              memberId: input.memberId,
              startedAt: now,
              deadline,
              status: 'open',
            },
          });
          await jobs.schedule(
            expireJob,
            { orgId: round.orgId, dueAt: deadline, payload: { attemptId: a.id }, timezone: input.tz },
            tx,
          );
          return a;
        });
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        attempt = await db.quizAttempt.findUniqueOrThrow({
          where: { roundId_memberId: { roundId: round.id, memberId: input.memberId } },
        });
        if (attempt.status !== 'open' || attempt.deadline.getTime() < now.getTime())
          throw new UserError('quiz.test.already_taken', { seq: round.seq });
      }
      const next = await nextQuestionCard(db, round, attempt, input.tz);
      if (!next) throw new UserError('quiz.test.already_taken', { seq: round.seq });
      return next.card;
    },

    /** Checks that a member may answer in this test round now; returns their attempt. */
    async attemptFor(round: RoundRow, memberId: string) {
      const attempt = await db.quizAttempt.findUnique({ where: { roundId_memberId: { roundId: round.id, memberId } } });
      if (!attempt) throw new UserError('quiz.test.not_started');
      if (attempt.status !== 'open') throw new UserError('quiz.test.finished', { seq: round.seq });
      if (clock.now().getTime() > attempt.deadline.getTime())
        throw new UserError('quiz.test.time_up', { seq: round.seq });
      return attempt;
    },

    /** After an answer: the next question, or the submission with the score. */
    async afterAnswer(
      round: RoundRow,
      attempt: { id: string; memberId: string; deadline: Date },
      tz: string,
    ): Promise<AckReply & { card: Card }> {
      const next = await nextQuestionCard(db, round, attempt, tz, t('quiz.test.saved'));
      if (next) return { card: next.card };
      await db.$transaction((tx) => finishAttempt(tx, attempt.id, 'submitted', clock.now()));
      const s = await scoreOf(db, round.id, attempt.memberId);
      return {
        toast: { kind: 'success', text: t('quiz.test.submitted_toast') },
        card: quizNoticeCard(cards, {
          title: t('quiz.test.card_title', { kind: kindTitle(round.kind), seq: round.seq }),
          colour: 'green',
          text: t('quiz.test.submitted', { correct: s.correct, total: s.total }),
        }),
      };
    },
  };
}
