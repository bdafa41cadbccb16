import { z } from 'zod';
import { UserError } from '../../bot/errors.ts';
import type { PausedLine } from '../../bot/context.ts';
import { defineJob } from '../../bot/jobs.ts';
import type { MessageKey, MessageParams } from '../../bot/messages.ts';
import type { Tx } from '../../lib/db.ts';
import { newId } from '../../lib/ids.ts';
import { describeAnswer } from './answer-check.ts';
import { quizPodiumCard, quizQuestionCard } from './cards.ts';
import { loadQuestions, type QuizQuestion } from './questions.ts';
import { createRound, pickQuestions, settingsOf, withNextSeq } from './rounds.ts';
import { answerControls, answerHint, namesOf, typeLabel, type QuizDeps } from './shared.ts';
import { formatLocal, localParts } from './time.ts';
import { contestSettings } from './round-settings.ts';

/**
 * The live contest (知识抢答赛): one question card at a time in a group,
 * a countdown per question, speed-weighted points, the answer revealed on
 * the same card at time-out, and a podium at the end. Time-outs are durable
 * scheduled items, so a restart mid-contest carries on.
 */
export const CONTEST_CLOSE = 'quiz.contest.close';
/** Answers received up to the deadline still count; the reveal waits this long for them to be written. */
export const CLOSE_GRACE_MS = 1000;
export const DEFAULT_SECONDS = 20;

export function contestLockKey(platform: string, chatId: string): string {
  return `contest:${platform}:${chatId}`;
}

export function createContests(deps: QuizDeps) {
  const { db, clock, cards, send, jobs, messages } = deps;
  const t = (k: MessageKey, p?: MessageParams) => messages.t(k, p);

  // A question's time-out: reveal it, then the next question or the podium.
  const closeJob = defineJob({
    kind: CONTEST_CLOSE,
    payload: z.object({ roundId: z.string(), position: z.number().int().min(1) }),
    async run({ item, tx }, { roundId, position }) {
      await closeQuestion(tx, roundId, position, item.timezone);
    },
  });

  function clockTime(at: Date, tz: string): string {
    const p = localParts(at, tz);
    return `${formatLocal(at, tz, false)}:${String(p.second).padStart(2, '0')}`;
  }

  function questionCard(input: {
    seq: number;
    roundId: string;
    position: number;
    total: number;
    q: QuizQuestion;
    seconds: number;
    deadline: Date;
    tz: string;
  }) {
    const { q } = input;
    return quizQuestionCard(cards, {
      seq: input.seq,
      position: input.position,
      total: input.total,
      typeLabel: typeLabel(t, q),
      stem: q.stem,
      options: q.options,
      seconds: input.seconds,
      deadline: clockTime(input.deadline, input.tz),
      hint: answerHint(t, q),
      controls: answerControls(q, 'quiz.answer', { v: 1, r: input.roundId, p: input.position }, t),
      revealed: false,
      answer: '',
      explanation: '',
      winners: [],
      answeredCount: 0,
      voided: false,
    });
  }

  async function revealCard(tx: Tx, roundId: string, position: number) {
    await deps.answers.settle(tx);
    const round = await tx.quizRound.findUniqueOrThrow({ where: { id: roundId } });
    const rq = await tx.quizRoundQuestion.findUniqueOrThrow({ where: { roundId_position: { roundId, position } } });
    const total = await tx.quizRoundQuestion.count({ where: { roundId } });
    const q = (await loadQuestions(tx, [rq.questionId])).get(rq.questionId)!;
    const answers = await tx.quizAnswer.findMany({
      where: { roundId, questionId: rq.questionId },
      orderBy: { answeredAt: 'asc' },
    });
    const names = await namesOf(
      tx,
      answers.map((a) => a.memberId),
    );
    const voided = rq.status === 'void';
    return quizQuestionCard(cards, {
      seq: round.seq,
      position,
      total,
      typeLabel: typeLabel(t, q),
      stem: q.stem,
      options: q.options,
      seconds: 0,
      deadline: '',
      hint: '',
      controls: [],
      revealed: true,
      answer: describeAnswer(q),
      explanation: q.explanation,
      winners: voided
        ? []
        : answers.filter((a) => a.correct).map((a) => ({ name: names.get(a.memberId) ?? '?', points: a.points })),
      answeredCount: answers.length,
      voided,
    });
  }

  async function openQuestion(
    tx: Tx,
    round: { id: string; seq: number; orgId: string; platform: string; chatId: string | null; settings: string },
    position: number,
    total: number,
    tz: string,
  ) {
    const settings = contestSettings.parse(round.settings);
    const now = clock.now();
    const deadline = new Date(now.getTime() + settings.seconds * 1000);
    const rq = await tx.quizRoundQuestion.findUniqueOrThrow({
      where: { roundId_position: { roundId: round.id, position } },
    });
    const q = (await loadQuestions(tx, [rq.questionId])).get(rq.questionId);
    if (!q) throw new Error(`question ${rq.questionId} vanished`);
    const cardId = newId();
    await tx.quizRoundQuestion.update({
      where: { roundId_position: { roundId: round.id, position } },
      data: { status: 'open', openedAt: now, deadline, cardRef: cardId },
    });
    await send.in(tx).toChat(
      { platform: round.platform, chatId: round.chatId!, orgId: round.orgId },
      {
        card: questionCard({
          seq: round.seq,
          roundId: round.id,
          position,
          total,
          q,
          seconds: settings.seconds,
          deadline,
          tz,
        }),
      },
      { id: cardId },
    );
    await jobs.schedule(
      closeJob,
      {
        orgId: round.orgId,
        dueAt: new Date(deadline.getTime() + CLOSE_GRACE_MS),
        payload: { roundId: round.id, position },
        timezone: tz,
      },
      tx,
    );
  }

  /** The podium card from the round's non-voided answers. */
  async function podiumCard(tx: Tx, roundId: string) {
    await deps.answers.settle(tx);
    const round = await tx.quizRound.findUniqueOrThrow({ where: { id: roundId } });
    const questions = await tx.quizRoundQuestion.findMany({ where: { roundId } });
    const asked = questions.filter((q) => q.status === 'closed' || q.status === 'void');
    const answers = await tx.quizAnswer.findMany({ where: { roundId, voided: false } });
    const byMember = new Map<string, { points: number; correct: number; last: number }>();
    for (const a of answers) {
      const s = byMember.get(a.memberId) ?? { points: 0, correct: 0, last: 0 };
      s.points += a.points;
      if (a.correct) s.correct++;
      s.last = Math.max(s.last, a.answeredAt.getTime());
      byMember.set(a.memberId, s);
    }
    const names = await namesOf(tx, [...byMember.keys()]);
    const ranked = [...byMember.entries()].sort(
      ([, a], [, b]) => b.points - a.points || b.correct - a.correct || a.last - b.last,
    );
    const medals = ['🥇', '🥈', '🥉'];
    return quizPodiumCard(cards, {
      seq: round.seq,
      title: t('quiz.contest.title'),
      total: asked.length,
      voided: questions.filter((q) => q.status === 'void').length,
      empty: ranked.length === 0,
      // A medal is for points scored: taking part with nothing right is no place on the podium.
      podium: ranked
        .filter(([, s]) => s.points > 0)
        .slice(0, 3)
        .map(([id, s], i) => ({ place: medals[i], name: names.get(id) ?? '?', points: s.points, correct: s.correct })),
      rows: ranked.map(([id, s], i) => [String(i + 1), names.get(id) ?? '?', String(s.correct), String(s.points)]),
    });
  }

  async function finish(tx: Tx, roundId: string): Promise<void> {
    const round = await tx.quizRound.findUniqueOrThrow({ where: { id: roundId } });
    await tx.quizRoundQuestion.updateMany({ where: { roundId, status: 'pending' }, data: { status: 'skipped' } });
    await tx.quizRound.update({
      where: { id: roundId },
      data: { status: 'closed', lockKey: null, closesAt: clock.now() },
    });
    await send
      .in(tx)
      .toChat(
        { platform: round.platform, chatId: round.chatId!, orgId: round.orgId },
        { card: await podiumCard(tx, roundId) },
      );
  }

  /** Closes the open question (reveal on its card); then the next question or the podium. */
  async function closeQuestion(
    tx: Tx,
    roundId: string,
    position: number,
    tz: string,
    thenStop = false,
  ): Promise<boolean> {
    const { count } = await tx.quizRoundQuestion.updateMany({
      where: { roundId, position, status: 'open' },
      data: { status: 'closed' },
    });
    if (count !== 1) return false;
    const round = await tx.quizRound.findUniqueOrThrow({ where: { id: roundId } });
    const rq = await tx.quizRoundQuestion.findUniqueOrThrow({ where: { roundId_position: { roundId, position } } });
    await send.in(tx).updateCard(
      {
        platform: round.platform,
        target: { kind: 'chat', id: round.chatId! },
        messageId: rq.cardRef!,
        orgId: round.orgId,
      },
      await revealCard(tx, roundId, position),
    );
    const total = await tx.quizRoundQuestion.count({ where: { roundId } });
    if (!thenStop && position < total && round.status === 'running') {
      await openQuestion(tx, round, position + 1, total, tz);
    } else {
      await finish(tx, roundId);
    }
    return true;
  }

  return {
    jobs: [closeJob],
    revealCard,
    podiumCard,

    async start(input: {
      orgId: string;
      tz: string;
      platform: string;
      chatId: string;
      memberId: string;
      count: number;
      tag: string | null;
      seconds: number;
    }): Promise<{ seq: number }> {
      const picked = await pickQuestions(db, input.orgId, input.tag, input.count);
      const lockKey = contestLockKey(input.platform, input.chatId);
      return withNextSeq(db, input.orgId, async (tx, seq) => {
        const running = await tx.quizRound.findUnique({ where: { lockKey } });
        if (running) throw new UserError('quiz.contest.running', { seq: running.seq });
        const round = await createRound(
          tx,
          {
            orgId: input.orgId,
            seq,
            kind: 'contest',
            platform: input.platform,
            chatId: input.chatId,
            title: t('quiz.contest.title'),
            tag: input.tag,
            status: 'running',
            lockKey,
            settings: settingsOf('contest', { seconds: input.seconds }),
            opensAt: clock.now(),
            createdBy: input.memberId,
          },
          picked,
        );
        await openQuestion(tx, round, 1, picked.length, input.tz);
        return { seq };
      });
    },

    /** The running contest of a chat and its open question, for typed answers. */
    async openQuestionIn(platform: string, chatId: string) {
      const round = await db.quizRound.findUnique({ where: { lockKey: contestLockKey(platform, chatId) } });
      if (!round) return null;
      const rq = await db.quizRoundQuestion.findFirst({ where: { roundId: round.id, status: 'open' } });
      return { round, position: rq?.position ?? null };
    },

    /**
     * The bot left the group: the running contest ends where it is, with no
     * reveal and no podium (nothing can be posted there any more). Pending
     * time-outs find no open question and do nothing.
     */
    async abandon(platform: string, chatId: string, tx: Tx): Promise<PausedLine[]> {
      const round = await tx.quizRound.findUnique({ where: { lockKey: contestLockKey(platform, chatId) } });
      if (!round) return [];
      await tx.quizRoundQuestion.updateMany({
        where: { roundId: round.id, status: { in: ['open', 'pending'] } },
        data: { status: 'skipped' },
      });
      await tx.quizRound.update({
        where: { id: round.id },
        data: { status: 'cancelled', lockKey: null, closesAt: clock.now() },
      });
      return [{ key: 'quiz.left.contest', params: { seq: round.seq } }];
    },

    /** Ends the running contest now: the open question is revealed, the rest skipped, the podium posted. */
    async stop(platform: string, chatId: string, tz: string): Promise<{ seq: number } | null> {
      return db.$transaction(async (tx) => {
        const round = await tx.quizRound.findUnique({ where: { lockKey: contestLockKey(platform, chatId) } });
        if (!round) return null;
        const open = await tx.quizRoundQuestion.findFirst({ where: { roundId: round.id, status: 'open' } });
        if (!open || !(await closeQuestion(tx, round.id, open.position, tz, true))) await finish(tx, round.id);
        return { seq: round.seq };
      });
    },
  };
}

export type Contests = ReturnType<typeof createContests>;
