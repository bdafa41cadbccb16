import { UserError } from '../../bot/errors.ts';
import type { MessageKey, MessageParams } from '../../bot/messages.ts';
import type { Tx } from '../../lib/db.ts';
import type { AckReply, Card } from '../../platforms/types.ts';
import { describeAnswer, isCorrect, parseResponse } from './answer-check.ts';
import type { Contests } from './contest.ts';
import type { Daily } from './daily.ts';
import type { Exams } from './exam.ts';
import type { QuizQuestion } from './questions.ts';
import { createRoundCache, type RoundSnapshot } from './round-cache.ts';
import { contestPoints, PRACTICE_POINTS } from './scoring.ts';
import { blankCount, type QuizDeps } from './shared.ts';
import { dailySettings } from './round-settings.ts';
import { createAnswerVoider } from './answer-void.ts';
import { yieldToLoop } from '../../lib/loop-yield.ts';

/**
 * One answer, whatever the round: the checks a member would expect
 * (round still open, deadline, their own attempt), the database's
 * "once" key, and the reply they see at once.
 */
export interface Who {
  orgId: string;
  memberId: string;
  /** The member's unit, from the identity (the directory caches it): per-unit boards. */
  unitId: string | null;
  tz: string;
}

/** A contest answer as recorded: what was read from the input, and how fast. */
export type Recorded = { answer: string; seconds: string };

export interface AnswerReply {
  ack: AckReply;
  /** Replace the card the member answered on (private test cards). */
  replaceCard?: Card;
  /** A contest answer as recorded (what was read from the input, and how fast), for a typed answer's private note. */
  recorded?: Recorded;
}

/**
 * A void's chunks are short, but each waits for the one connection behind a
 * group commit of answers: Prisma's 2 s default maxWait is too tight at 09:00.
 */
const VOID_TX = { timeout: 30_000, maxWait: 30_000 };

export function createPlay(deps: QuizDeps & { contests: Contests; daily: Daily; exams: Exams }) {
  const { db, clock, answers, messages, send } = deps;
  const t = (k: MessageKey, p?: MessageParams) => messages.t(k, p);

  function invalidHint(q: QuizQuestion): string {
    if (q.type === 'truefalse') return t('quiz.answer.hint.truefalse');
    if (q.type === 'fill' && blankCount(q) > 1) return t('quiz.answer.hint.fill_blanks', { n: blankCount(q) });
    if (q.type === 'fill') return t('quiz.answer.hint.fill');
    return t(q.type === 'single' ? 'quiz.answer.hint.single' : 'quiz.answer.hint.multiple', {
      keys: (q.optionKeys ?? []).join('、'),
    });
  }

  const rounds = createRoundCache({ db, sql: deps.sql, provider: deps.provider });
  const voider = createAnswerVoider({ provider: deps.provider });
  /** Why this answer cannot be taken now, from a snapshot; undefined when it can. */
  function refusal(snap: RoundSnapshot | undefined, who: Who, position: number, now: number): UserError | undefined {
    if (!snap || snap.round.orgId !== who.orgId) return new UserError('quiz.round.unknown');
    const { round } = snap;
    const rq = snap.positions.get(position);
    if (!rq || !rq.question) return new UserError('quiz.round.unknown');
    if (round.status === 'closed' || round.status === 'cancelled')
      return new UserError('quiz.round.closed', { seq: round.seq });
    if (rq.status === 'void') return new UserError('quiz.question.voided');
    if (round.kind === 'contest') {
      if (rq.status === 'pending') return new UserError('quiz.answer.not_open');
      if (rq.status !== 'open' || !rq.deadline || now > rq.deadline.getTime())
        return new UserError('quiz.answer.too_late');
    } else if (round.kind === 'daily') {
      if (round.status !== 'running' || (round.closesAt && now >= round.closesAt.getTime()))
        return new UserError('quiz.round.closed', { seq: round.seq });
    } else if (round.status !== 'running') return new UserError('quiz.round.closed', { seq: round.seq });
    return undefined;
  }

  async function answer(
    who: Who,
    roundId: string,
    position: number,
    raw: string | string[] | null,
    /**
     * The event that carried the answer, when its dedupe row goes with the answer: a click
     * (quiz.answer), or a typed answer's message (so a message processed again is a replay).
     */
    event?: { platform: string; eventKey: string },
    /** A contest answer's private note, written in the answer's transaction (see AnswerInput.onRecorded). */
    onRecorded?: (tx: Tx, recorded: Recorded) => Promise<unknown>,
  ): Promise<AnswerReply> {
    const now = clock.now();
    let snap = await rounds.get(roundId);
    if (refusal(snap, who, position, now.getTime())) {
      // Refuse only on what the database says now, not on a snapshot (see round-cache.ts).
      snap = await rounds.get(roundId, { fresh: true });
      const refused = refusal(snap, who, position, now.getTime());
      if (refused) throw refused;
    }
    const { round, total } = snap!;
    const rq = snap!.positions.get(position)!;
    const q = rq.question!;

    let attempt: { id: string; memberId: string; deadline: Date; startedAt: Date } | null = null;
    if (round.kind !== 'contest' && round.kind !== 'daily') attempt = await deps.exams.attemptFor(round, who.memberId);

    if (raw === null || (Array.isArray(raw) && raw.length === 0))
      throw new UserError('quiz.answer.empty', { hint: invalidHint(q) });
    const response = parseResponse(q, raw);
    if (!response) throw new UserError('quiz.answer.invalid', { hint: invalidHint(q) });
    const correct = isCorrect(q, response);
    const openedAt = rq.openedAt ?? round.opensAt;
    const elapsedMs = Math.max(0, now.getTime() - (attempt ? attempt.startedAt : openedAt).getTime());
    const points =
      round.kind === 'contest'
        ? contestPoints(correct, elapsedMs, rq.deadline!.getTime() - openedAt.getTime())
        : correct
          ? PRACTICE_POINTS
          : 0;
    const recorded: Recorded | undefined =
      round.kind === 'contest'
        ? { answer: describeAnswer(q, response), seconds: (elapsedMs / 1000).toFixed(1) }
        : undefined;
    const result = await answers.submit({
      orgId: who.orgId,
      roundId,
      questionId: q.id,
      position,
      memberId: who.memberId,
      unitId: who.unitId,
      attemptId: attempt?.id ?? null,
      response,
      correct,
      points,
      elapsedMs,
      answeredAt: now,
      timezone: who.tz,
      // A daily round needs to know when a member has answered everything (their streak moves).
      countInRound: round.kind === 'daily',
      ...(event ? { event } : {}),
      ...(recorded && onRecorded ? { onRecorded: (tx: Tx) => onRecorded(tx, recorded) } : {}),
    });
    // A replayed click (a platform retry, or someone re-posting a captured callback), or a typed
    // answer's message processed again after a crash: already handled, its reply with it.
    if (result.status === 'replayed') {
      deps.log.info({ eventKey: event?.eventKey, roundId, position }, 'answer event seen before (a replay); ignored');
      return { ack: {} };
    }
    if (result.status === 'duplicate') throw new UserError('quiz.answer.duplicate');

    if (recorded) {
      return { ack: { toast: { kind: 'info', text: t('quiz.contest.recorded', recorded) } }, recorded };
    }
    if (round.kind === 'daily') {
      const head = correct
        ? t('quiz.daily.right', { position })
        : t('quiz.daily.wrong', { position, answer: describeAnswer(q) });
      const explanation = q.explanation ? t('quiz.explanation', { text: q.explanation }) : '';
      const done =
        (result.answeredInRound ?? 0) >= total ? await deps.daily.completion(round, who.memberId, total) : null;
      const tail = done
        ? t('quiz.daily.done', { correct: done.correct, total: done.total, streak: done.streak ?? 1 })
        : '';
      const ack: AckReply = {
        toast: { kind: correct ? 'success' : 'warning', text: [head, explanation, tail].filter(Boolean).join('\n') },
      };
      // A private card is the member's own: it can show what they answered. The group card is shared.
      const isPrivate = dailySettings.parse(round.settings).private === true;
      if (!isPrivate) return { ack };
      const card = await deps.daily.memberCard(round.id, who.memberId, who.tz);
      return { ack: { ...ack, card }, replaceCard: card };
    }
    const after = await deps.exams.afterAnswer(round, attempt!, who.tz);
    return {
      ack: { toast: after.toast ?? { kind: 'success', text: t('quiz.test.saved') }, card: after.card },
      replaceCard: after.card,
    };
  }

  /**
   * Voids a question of a round (wrong key): its answers stop counting, the
   * tallies of everyone who answered it are rebuilt from their answers, and
   * the round's results are re-issued (contest podium, test scores).
   */
  async function voidQuestion(
    who: Who & { platform: string; chatId: string | null; secretary: { kind: 'user'; id: string } },
    seq: number,
    position: number,
  ) {
    const round = await db.quizRound.findUnique({ where: { orgId_seq: { orgId: who.orgId, seq } } });
    if (!round) throw new UserError('quiz.void.no_round', { seq });
    const rq = await db.quizRoundQuestion.findUnique({ where: { roundId_position: { roundId: round.id, position } } });
    if (!rq) throw new UserError('quiz.void.no_question', { seq, position });
    if (rq.status === 'void') throw new UserError('quiz.void.already', { seq, position });
    // Contest questions are asked one by one; a test's or a day's are all asked once the round opens.
    const notAsked =
      round.kind === 'contest' ? rq.status !== 'closed' : round.status === 'scheduled' || rq.status === 'skipped';
    if (notAsked) throw new UserError('quiz.void.not_asked', { seq, position });
    // Answers still in the journal are voided too: folded before the flip (so that it deletes their
    // mistakes) and once more after it, before they are taken out.
    await answers.settle();
    // The flip, short: from here the question counts for nobody and new answers to it are refused.
    const flipped = await db.$transaction(async (tx) => {
      const { count } = await tx.quizRoundQuestion.updateMany({
        where: { roundId: round.id, position, status: { not: 'void' } },
        data: { status: 'void' },
      });
      if (count === 0) return false;
      // The key is wrong: keep the question out of new rounds until the bank is corrected.
      await tx.question.updateMany({ where: { id: rq.questionId, orgId: who.orgId }, data: { status: 'retired' } });
      await tx.quizMistake.deleteMany({ where: { questionId: rq.questionId, orgId: who.orgId } });
      return true;
    });
    if (!flipped) throw new UserError('quiz.void.already', { seq, position });
    // After the commit: a snapshot taken before it must not accept answers to the voided question.
    rounds.forget(round.id);
    await answers.settle();
    const people = await takeOut({ orgId: who.orgId, roundId: round.id, questionId: rq.questionId }, who.tz);
    if (round.kind === 'contest') {
      await db.$transaction(async (tx) => {
        const sender = send.in(tx);
        const chat = { platform: round.platform, chatId: round.chatId!, orgId: round.orgId };
        if (rq.cardRef) {
          await sender.updateCard(
            { ...chat, target: { kind: 'chat', id: chat.chatId }, messageId: rq.cardRef },
            await deps.contests.revealCard(tx, round.id, position),
          );
        }
        if (round.status === 'closed')
          await sender.toChat(chat, { card: await deps.contests.podiumCard(tx, round.id) });
      });
    }
    const outcome = { seq, position, people };
    // Test results name people: they go to the secretary privately, never to the group. Built
    // after the commit: the sheet for thousands of takers yields to other requests, which on
    // SQLite must not run inside the void's open transaction. Lost in a crash right here, the
    // secretary still has 测试 结果.
    if ((round.kind === 'test' || round.kind === 'makeup') && round.status === 'closed') {
      const download = await deps.exams.resultsDownload(db, round, who.tz, who.platform);
      await send.toUser(
        { platform: who.platform, userId: who.secretary.id, orgId: round.orgId },
        { card: await deps.exams.resultsCard(db, round, who.tz, null, download) },
      );
    }
    return outcome;
  }

  /**
   * Takes a void question's answers out of the scores, one short transaction
   * per chunk with a turn of the event loop between (answer-void.ts); returns
   * how many people's answers were voided.
   */
  async function takeOut(at: { orgId: string; roundId: string; questionId: string }, tz: string): Promise<number> {
    const people = new Set<string>();
    for (;;) {
      const { members } = await db.$transaction((tx) => voider.voidChunk(tx, at, tz), VOID_TX);
      if (members.length === 0) return people.size;
      for (const m of members) people.add(m);
      await yieldToLoop();
    }
  }

  /**
   * Finishes voids cut short (a crash or restart between chunks): any void
   * question with answers still counting. Run once at start; idempotent.
   */
  async function finishVoids(): Promise<number> {
    await answers.settle();
    const pending = await db.$queryRawUnsafe<{ roundId: string; questionId: string; orgId: string }[]>(
      `SELECT DISTINCT rq."roundId", rq."questionId", r."orgId"
         FROM "QuizRoundQuestion" rq
         JOIN "QuizRound" r ON r."id" = rq."roundId"
        WHERE rq."status" = 'void'
          AND EXISTS (SELECT 1 FROM "QuizAnswer" a
                       WHERE a."roundId" = rq."roundId" AND a."questionId" = rq."questionId" AND a."voided" = false)`,
    );
    for (const p of pending) {
      const org = await db.organisation.findUnique({ where: { id: p.orgId }, select: { timezone: true } });
      const people = await takeOut(p, org?.timezone ?? 'Asia/Shanghai');
      deps.log.warn({ roundId: p.roundId, questionId: p.questionId, people }, 'finished a void cut short');
    }
    return pending.length;
  }

  return { answer, voidQuestion, finishVoids };
}

export type Play = ReturnType<typeof createPlay>;
