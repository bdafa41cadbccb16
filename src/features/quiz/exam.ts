import type { PausedLine } from '../../bot/context.ts';
import { z } from 'zod';
import { UserError } from '../../bot/errors.ts';
import { defineJob } from '../../bot/jobs.ts';
import type { MessageKey, MessageParams } from '../../bot/messages.ts';
import type { Tx } from '../../lib/db.ts';
import type { Card } from '../../platforms/types.ts';
import { quizNoticeCard, type NoticeCard } from './cards.ts';
import { createRound, nextSeq, pickQuestions, settingsOf, withNextSeq } from './rounds.ts';
import type { QuizDeps } from './shared.ts';
import { ATTEMPT_EXPIRE, createAttempts } from './exam-attempts.ts';
import { createExamChanges } from './exam-changes.ts';
import { createExamResults, type RoundRow } from './exam-results.ts';
import { formatLocal } from './time.ts';
import { testSettings } from './round-settings.ts';

/**
 * Closed-book tests (闭卷测试) and make-ups (补考). A test has a window and
 * a time limit per attempt; each invited member takes it privately, once,
 * timed on the server. At the close the secretary gets the results and the
 * absentees, and a make-up round opens for exactly those absentees.
 */
export const TEST_OPEN = 'quiz.test.open';
export const TEST_CLOSE = 'quiz.test.close';
export const TEST_REMIND = 'quiz.test.remind';

/** Those who have not started get one reminder this long before the close (at most half the window). */
export const REMIND_BEFORE_MS = 2 * 3600_000;

export function createExams(deps: QuizDeps) {
  const { db, clock, cards, send, jobs, messages } = deps;
  const t = (k: MessageKey, p?: MessageParams) => messages.t(k, p);

  const kindTitle = (kind: string) => t(kind === 'makeup' ? 'quiz.makeup.title' : 'quiz.test.title');

  const notice = (input: NoticeCard): Card => quizNoticeCard(cards, input);
  const { results, resultsRound, resultsDownload, resultsCard, exportCard } = createExamResults(deps);
  const toUser = (round: RoundRow, userId: string) => ({ platform: round.platform, userId, orgId: round.orgId });
  const attempts = createAttempts(deps);
  const { finishAttempt } = attempts;

  function inviteCard(round: RoundRow, tz: string, total: number, reminder: boolean): Card {
    const s = testSettings.parse(round.settings);
    return notice({
      title: t('quiz.test.card_title', { kind: kindTitle(round.kind), seq: round.seq }),
      colour: round.kind === 'makeup' ? 'orange' : 'blue',
      text: t(reminder ? 'quiz.makeup.invite' : 'quiz.test.invite', { title: round.title }),
      fields: [
        { label: t('quiz.test.field.questions'), value: String(total) },
        { label: t('quiz.test.field.limit'), value: t('quiz.test.minutes', { n: s.minutes }) },
        { label: t('quiz.test.field.closes'), value: formatLocal(round.closesAt!, tz) },
      ],
      note: t('quiz.test.rules'),
      controls: [
        {
          type: 'buttons',
          buttons: [
            {
              text: t('quiz.test.start_button'),
              style: 'primary',
              actionId: 'quiz.test.start',
              payload: { v: 1, r: round.id },
            },
          ],
        },
      ],
    });
  }

  async function scheduleClose(
    tx: Tx,
    round: { id: string; orgId: string; opensAt: Date; closesAt: Date },
    tz: string,
  ) {
    await jobs.schedule(
      closeJob,
      { orgId: round.orgId, dueAt: round.closesAt, payload: { roundId: round.id }, timezone: tz },
      tx,
    );
    const window = round.closesAt.getTime() - round.opensAt.getTime();
    const remindAt = new Date(round.closesAt.getTime() - Math.min(REMIND_BEFORE_MS, window / 2));
    await jobs.schedule(
      remindJob,
      { orgId: round.orgId, dueAt: remindAt, payload: { roundId: round.id }, timezone: tz },
      tx,
    );
  }

  async function openRound(tx: Tx, roundId: string, tz: string): Promise<void> {
    const { count } = await tx.quizRound.updateMany({
      where: { id: roundId, status: 'scheduled' },
      data: { status: 'running' },
    });
    if (count !== 1) return;
    const round = await tx.quizRound.findUniqueOrThrow({ where: { id: roundId } });
    if (round.kind === 'test') {
      // The roster is everyone the organisation knows on this platform except the one who set the test.
      const members = await tx.member.findMany({
        where: { orgId: round.orgId, platform: round.platform, id: { not: round.createdBy } },
        select: { id: true },
      });
      if (members.length > 0) {
        await tx.quizInvite.createMany({ data: members.map((m) => ({ roundId, memberId: m.id, orgId: round.orgId })) });
      }
    }
    const invites = await tx.quizInvite.findMany({ where: { roundId } });
    const people = await tx.member.findMany({ where: { id: { in: invites.map((i) => i.memberId) } } });
    const total = await tx.quizRoundQuestion.count({ where: { roundId } });
    for (const p of people)
      await send
        .in(tx)
        .toUser(toUser(round, p.platformUserId), { card: inviteCard(round, tz, total, round.kind === 'makeup') });
    await tx.quizInvite.updateMany({ where: { roundId }, data: { notifiedAt: clock.now() } });
    if (round.chatId && round.kind === 'test') {
      await send.in(tx).toChat(
        { platform: round.platform, chatId: round.chatId, orgId: round.orgId },
        {
          key: 'quiz.test.opened_group',
          params: { seq: round.seq, count: people.length, closes: formatLocal(round.closesAt!, tz) },
        },
      );
    }
  }

  async function closeRound(tx: Tx, roundId: string, tz: string): Promise<void> {
    const now = clock.now();
    const { count } = await tx.quizRound.updateMany({
      where: { id: roundId, status: 'running' },
      data: { status: 'closed' },
    });
    if (count !== 1) return;
    const round = await tx.quizRound.findUniqueOrThrow({ where: { id: roundId } });
    // Attempts still open end with the window.
    const open = await tx.quizAttempt.findMany({ where: { roundId, status: 'open' } });
    for (const a of open) await finishAttempt(tx, a.id, 'expired', now);
    const r = await results(tx, round);
    let makeupCloses: Date | null = null;
    const settings = testSettings.parse(round.settings);
    if (round.kind === 'test' && r.absent.length > 0 && settings.makeupHours > 0) {
      makeupCloses = new Date(now.getTime() + settings.makeupHours * 3600_000);
      const rqs = await tx.quizRoundQuestion.findMany({
        where: { roundId, status: { not: 'void' } },
        orderBy: { position: 'asc' },
      });
      const makeup = await createRound(
        tx,
        {
          orgId: round.orgId,
          seq: await nextSeq(tx, round.orgId),
          kind: 'makeup',
          platform: round.platform,
          chatId: round.chatId,
          title: round.title,
          tag: null,
          status: 'scheduled',
          settings: round.settings,
          opensAt: now,
          closesAt: makeupCloses,
          parentId: round.id,
          createdBy: round.createdBy,
        },
        rqs.map((q) => q.questionId),
      );
      await tx.quizInvite.createMany({
        data: r.absent.map((a) => ({ roundId: makeup.id, memberId: a.memberId, orgId: round.orgId })),
      });
      await openRound(tx, makeup.id, tz);
      await scheduleClose(tx, { id: makeup.id, orgId: round.orgId, opensAt: now, closesAt: makeupCloses }, tz);
    }
    // A make-up's results are its test's: the secretary gets the test's card, make-up scores folded in.
    const creator = await tx.member.findUnique({ where: { id: round.createdBy } });
    if (creator) {
      const download = await resultsDownload(tx, round, tz, round.platform);
      await send.in(tx).toUser(toUser(round, creator.platformUserId), {
        card: await resultsCard(tx, round, tz, makeupCloses, download),
      });
    }
    if (round.chatId) {
      await send.in(tx).toChat(
        { platform: round.platform, chatId: round.chatId, orgId: round.orgId },
        {
          key: makeupCloses ? 'quiz.test.closed_group_makeup' : 'quiz.test.closed_group',
          params: {
            kind: kindTitle(round.kind),
            seq: round.seq,
            taken: r.taken.length,
            absent: r.absent.length,
            closes: makeupCloses ? formatLocal(makeupCloses, tz) : '',
          },
        },
      );
    }
  }

  const roundPayload = z.object({ roundId: z.string() });
  const openJob = defineJob({
    kind: TEST_OPEN,
    payload: roundPayload,
    run: ({ item, tx }, { roundId }) => openRound(tx, roundId, item.timezone),
  });
  const closeJob = defineJob({
    kind: TEST_CLOSE,
    payload: roundPayload,
    run: ({ item, tx }, { roundId }) => closeRound(tx, roundId, item.timezone),
  });
  // One reminder, only to those who have not started (users ask not to nag the ones who did).
  const remindJob = defineJob({
    kind: TEST_REMIND,
    payload: roundPayload,
    async run({ item, tx, send }, { roundId }) {
      const round = await tx.quizRound.findUnique({ where: { id: roundId } });
      if (!round || round.status !== 'running') return;
      const invites = await tx.quizInvite.findMany({ where: { roundId } });
      const started = new Set(
        (await tx.quizAttempt.findMany({ where: { roundId }, select: { memberId: true } })).map((a) => a.memberId),
      );
      const waiting = invites.filter((i) => !started.has(i.memberId)).map((i) => i.memberId);
      const people = await tx.member.findMany({ where: { id: { in: waiting } } });
      for (const p of people) {
        await send.toUser(toUser(round, p.platformUserId), {
          key: 'quiz.test.reminder',
          params: {
            seq: round.seq,
            kind: kindTitle(round.kind),
            title: round.title,
            closes: formatLocal(round.closesAt!, item.timezone),
          },
        });
      }
    },
  });

  const changes = createExamChanges(deps, {
    openJob,
    closeKinds: [TEST_CLOSE, TEST_REMIND],
    attemptKind: ATTEMPT_EXPIRE,
    scheduleClose,
    finishAttempt,
  });

  return {
    ...attempts,
    ...changes,
    jobs: [openJob, closeJob, remindJob, ...attempts.jobs],
    resultsDownload,
    resultsRound,
    resultsCard,

    /**
     * The bot left the group a test was set in: the test goes on privately (invites,
     * attempts, results to the secretary), but nothing more is announced in that group.
     */
    async detachChat(platform: string, chatId: string, tx: Tx): Promise<PausedLine[]> {
      const rounds = await tx.quizRound.findMany({
        where: { platform, chatId, kind: { in: ['test', 'makeup'] }, status: { in: ['scheduled', 'running'] } },
        select: { id: true, seq: true },
        orderBy: { seq: 'asc' },
      });
      if (rounds.length === 0) return [];
      await tx.quizRound.updateMany({ where: { id: { in: rounds.map((r) => r.id) } }, data: { chatId: null } });
      return rounds.map((r) => ({ key: 'quiz.left.test' as const, params: { seq: r.seq } }));
    },
    exportCard,

    async schedule(input: {
      orgId: string;
      tz: string;
      platform: string;
      chatId: string | null;
      memberId: string;
      title: string;
      count: number;
      tag: string | null;
      opensAt: Date;
      closesAt: Date;
      minutes: number;
      makeupHours: number;
    }): Promise<{ seq: number; opensNow: boolean }> {
      const now = clock.now();
      if (input.closesAt.getTime() <= now.getTime()) throw new UserError('quiz.test.closes_in_past');
      if (input.closesAt.getTime() <= input.opensAt.getTime()) throw new UserError('quiz.test.bad_window');
      const picked = await pickQuestions(db, input.orgId, input.tag, input.count);
      const opensNow = input.opensAt.getTime() <= now.getTime();
      const settings = settingsOf('test', { minutes: input.minutes, makeupHours: input.makeupHours });
      return withNextSeq(db, input.orgId, async (tx, seq) => {
        const round = await createRound(
          tx,
          {
            orgId: input.orgId,
            seq,
            kind: 'test',
            platform: input.platform,
            chatId: input.chatId,
            title: input.title,
            tag: input.tag,
            status: 'scheduled',
            settings,
            opensAt: opensNow ? now : input.opensAt,
            closesAt: input.closesAt,
            createdBy: input.memberId,
          },
          picked,
        );
        if (opensNow) await openRound(tx, round.id, input.tz);
        else
          await jobs.schedule(
            openJob,
            { orgId: input.orgId, dueAt: input.opensAt, payload: { roundId: round.id }, timezone: input.tz },
            tx,
          );
        await scheduleClose(
          tx,
          { id: round.id, orgId: input.orgId, opensAt: round.opensAt, closesAt: input.closesAt },
          input.tz,
        );
        return { seq, opensNow };
      });
    },

    async findBySeq(orgId: string, seq: number) {
      const round = await db.quizRound.findUnique({ where: { orgId_seq: { orgId, seq } } });
      if (!round || (round.kind !== 'test' && round.kind !== 'makeup'))
        throw new UserError('quiz.test.unknown_seq', { seq });
      return round;
    },
  };
}

export type Exams = ReturnType<typeof createExams>;
