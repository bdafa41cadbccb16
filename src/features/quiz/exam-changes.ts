import { UserError } from '../../bot/errors.ts';
import type { JobSpec } from '../../bot/jobs.ts';
import type { MessageKey, MessageParams } from '../../bot/messages.ts';
import type { Tx } from '../../lib/db.ts';
import type { RoundRow } from './exam-results.ts';
import { testSettings } from './round-settings.ts';
import { settingsOf } from './rounds.ts';
import type { QuizDeps } from './shared.ts';

/**
 * Undoing and changing a closed-book test: cancelled while it is scheduled or
 * running (the invited are told), or moved and re-timed before it opens. The
 * round's pending open/close/reminder items are cancelled and re-made in the
 * same transaction, so an old close can never end a test that was moved.
 */
export interface ExamJobs {
  openJob: JobSpec;
  closeKinds: string[];
  /** The kind of an attempt's time-out, keyed by attempt id. */
  attemptKind: string;
  scheduleClose(tx: Tx, round: { id: string; orgId: string; opensAt: Date; closesAt: Date }, tz: string): Promise<void>;
  finishAttempt(tx: Tx, attemptId: string, status: 'submitted' | 'expired', at: Date): Promise<boolean>;
}

export function createExamChanges(deps: QuizDeps, exam: ExamJobs) {
  const { db, clock, send, jobs, messages } = deps;
  const t = (k: MessageKey, p?: MessageParams) => messages.t(k, p);
  const kindTitle = (kind: string) => t(kind === 'makeup' ? 'quiz.makeup.title' : 'quiz.test.title');

  /** The scheduled items (open, close, reminder) still waiting for a round. */
  async function cancelRoundJobs(tx: Tx, round: RoundRow): Promise<void> {
    const items = await tx.scheduledItem.findMany({
      where: {
        orgId: round.orgId,
        kind: { in: [exam.openJob.kind, ...exam.closeKinds] },
        status: 'active',
        payload: JSON.stringify({ roundId: round.id }),
      },
      select: { id: true },
    });
    for (const item of items) await jobs.cancel(item.id, tx);
  }

  /** An attempt's pending time-out: after a cancel it has nothing to hand in (and must not be reported missed). */
  async function cancelAttemptJob(tx: Tx, orgId: string, attemptId: string): Promise<void> {
    const items = await tx.scheduledItem.findMany({
      where: { orgId, kind: exam.attemptKind, status: 'active', payload: JSON.stringify({ attemptId }) },
      select: { id: true },
    });
    for (const item of items) await jobs.cancel(item.id, tx);
  }

  async function testRound(tx: Tx, orgId: string, seq: number): Promise<RoundRow> {
    const round = await tx.quizRound.findUnique({ where: { orgId_seq: { orgId, seq } } });
    if (!round || (round.kind !== 'test' && round.kind !== 'makeup'))
      throw new UserError('quiz.test.unknown_seq', { seq });
    return round;
  }

  return {
    /** What a confirmation shows: the round, how many were told, how many started. */
    async describe(orgId: string, seq: number) {
      return db.$transaction(async (tx) => {
        const round = await testRound(tx, orgId, seq);
        if (round.status === 'cancelled') throw new UserError('quiz.test.already_cancelled', { seq });
        if (round.status === 'closed') throw new UserError('quiz.test.cancel_closed', { seq });
        const [invited, started] = await Promise.all([
          tx.quizInvite.count({ where: { roundId: round.id, notifiedAt: { not: null } } }),
          tx.quizAttempt.count({ where: { roundId: round.id } }),
        ]);
        return { round, invited, started };
      });
    },

    /** Cancels a scheduled or running test: nobody may answer any more, and whoever was invited is told. */
    async cancel(input: { orgId: string; roundId: string }): Promise<{ seq: number; told: number }> {
      return db.$transaction(async (tx) => {
        const round = await tx.quizRound.findUnique({ where: { id: input.roundId } });
        if (!round || round.orgId !== input.orgId) throw new UserError('quiz.round.unknown');
        const { count } = await tx.quizRound.updateMany({
          where: { id: round.id, status: { in: ['scheduled', 'running'] } },
          data: { status: 'cancelled' },
        });
        if (count !== 1) {
          const key = round.status === 'cancelled' ? 'quiz.test.already_cancelled' : 'quiz.test.cancel_closed';
          throw new UserError(key, { seq: round.seq });
        }
        await cancelRoundJobs(tx, round);
        const now = clock.now();
        for (const a of await tx.quizAttempt.findMany({ where: { roundId: round.id, status: 'open' } })) {
          await exam.finishAttempt(tx, a.id, 'expired', now);
          await cancelAttemptJob(tx, round.orgId, a.id);
        }
        const invites = await tx.quizInvite.findMany({ where: { roundId: round.id, notifiedAt: { not: null } } });
        const people = await tx.member.findMany({ where: { id: { in: invites.map((i) => i.memberId) } } });
        const params = { seq: round.seq, kind: kindTitle(round.kind), title: round.title };
        const sender = send.in(tx);
        for (const p of people) {
          await sender.toUser(
            { platform: round.platform, userId: p.platformUserId, orgId: round.orgId },
            { key: 'quiz.test.cancelled_member', params },
          );
        }
        if (round.chatId) {
          await sender.toChat(
            { platform: round.platform, chatId: round.chatId, orgId: round.orgId },
            { key: 'quiz.test.cancelled_group', params },
          );
        }
        return { seq: round.seq, told: people.length };
      });
    },

    /** Moves or re-times a test that has not opened yet. */
    async change(input: {
      orgId: string;
      seq: number;
      tz: string;
      opensAt?: Date;
      closesAt?: Date;
      minutes?: number;
    }): Promise<{ round: RoundRow; minutes: number }> {
      return db.$transaction(async (tx) => {
        const round = await testRound(tx, input.orgId, input.seq);
        if (round.status === 'cancelled') throw new UserError('quiz.test.already_cancelled', { seq: round.seq });
        if (round.status !== 'scheduled') throw new UserError('quiz.test.change_started', { seq: round.seq });
        const now = clock.now();
        const opensAt = input.opensAt ?? round.opensAt;
        const closesAt = input.closesAt ?? round.closesAt!;
        if (closesAt.getTime() <= now.getTime()) throw new UserError('quiz.test.closes_in_past');
        if (opensAt.getTime() <= now.getTime()) throw new UserError('quiz.test.opens_in_past');
        if (closesAt.getTime() <= opensAt.getTime()) throw new UserError('quiz.test.bad_window');
        const settings = testSettings.parse(round.settings);
        const minutes = input.minutes ?? settings.minutes;
        const { count } = await tx.quizRound.updateMany({
          where: { id: round.id, status: 'scheduled' },
          data: { opensAt, closesAt, settings: settingsOf('test', { ...settings, minutes }) },
        });
        // It opened between the read and the write.
        if (count !== 1) throw new UserError('quiz.test.change_started', { seq: round.seq });
        await cancelRoundJobs(tx, round);
        await jobs.schedule(
          exam.openJob,
          { orgId: round.orgId, dueAt: opensAt, payload: { roundId: round.id }, timezone: input.tz },
          tx,
        );
        await exam.scheduleClose(tx, { id: round.id, orgId: round.orgId, opensAt, closesAt }, input.tz);
        return { round: { ...round, opensAt, closesAt }, minutes };
      });
    },
  };
}

export type ExamChanges = ReturnType<typeof createExamChanges>;
