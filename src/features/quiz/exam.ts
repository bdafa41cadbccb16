import { offerDownload, safeFileName, XLSX_CONTENT_TYPE, type OfferedDownload } from '../../bot/downloads.ts';
import type { PausedLine } from '../../bot/context.ts';
import { z } from 'zod';
import { UserError } from '../../bot/errors.ts';
import { defineJob } from '../../bot/jobs.ts';
import type { MessageKey, MessageParams } from '../../bot/messages.ts';
import { isUniqueViolation, type Tx } from '../../lib/db.ts';
import { newId } from '../../lib/ids.ts';
import type { AckReply, Card } from '../../platforms/types.ts';
import { quizNoticeCard, quizTestQuestionCard, type NoticeCard } from './cards.ts';
import { loadQuestions } from './questions.ts';
import { createRound, nextSeq, pickQuestions, settingsOf, withNextSeq, type TestSettings } from './rounds.ts';
import { answerControls, typeLabel, type QuizDeps } from './shared.ts';
import { sheetBytes } from './export-xlsx.ts';
import { formatLocal } from './time.ts';

/**
 * Closed-book tests (闭卷测试) and make-ups (补考). A test has a window and
 * a time limit per attempt; each invited member takes it privately, once,
 * timed on the server. At the close the secretary gets the results and the
 * absentees, and a make-up round opens for exactly those absentees.
 */
export const TEST_OPEN = 'quiz.test.open';
export const TEST_CLOSE = 'quiz.test.close';
export const ATTEMPT_EXPIRE = 'quiz.attempt.expire';
export const TEST_REMIND = 'quiz.test.remind';

/** Those who have not started get one reminder this long before the close (at most half the window). */
export const REMIND_BEFORE_MS = 2 * 3600_000;

type RoundRow = {
  id: string;
  orgId: string;
  seq: number;
  kind: string;
  platform: string;
  chatId: string | null;
  title: string;
  status: string;
  settings: string;
  opensAt: Date;
  closesAt: Date | null;
  parentId: string | null;
  createdBy: string;
};

export function createExams(deps: QuizDeps) {
  const { db, clock, cards, send, jobs, messages } = deps;
  const t = (k: MessageKey, p?: MessageParams) => messages.t(k, p);

  const kindTitle = (kind: string) => t(kind === 'makeup' ? 'quiz.makeup.title' : 'quiz.test.title');

  const notice = (input: NoticeCard): Card => quizNoticeCard(cards, input);
  const toUser = (round: RoundRow, userId: string) => ({ platform: round.platform, userId, orgId: round.orgId });

  function inviteCard(round: RoundRow, tz: string, total: number, reminder: boolean): Card {
    const s = JSON.parse(round.settings) as TestSettings;
    return notice({
      title: `${kindTitle(round.kind)} · 第${round.seq}场`,
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

  /** The card showing an attempt's next unanswered question, or null when all are answered. */
  async function nextQuestionCard(
    tx: Tx | typeof db,
    round: RoundRow,
    attempt: { id: string; memberId: string; deadline: Date },
    tz: string,
    feedback = '',
  ): Promise<{ card: Card; position: number } | null> {
    const rqs = await tx.quizRoundQuestion.findMany({ where: { roundId: round.id }, orderBy: { position: 'asc' } });
    const answered = new Set(
      (
        await tx.quizAnswer.findMany({
          where: { roundId: round.id, memberId: attempt.memberId },
          select: { position: true },
        })
      ).map((a) => a.position),
    );
    const next = rqs.find((r) => !answered.has(r.position) && r.status !== 'void');
    if (!next) return null;
    const q = (await loadQuestions(tx, [next.questionId])).get(next.questionId)!;
    const left = Math.max(0, attempt.deadline.getTime() - clock.now().getTime());
    const remaining = t('quiz.test.remaining', { m: Math.floor(left / 60000), s: Math.floor((left % 60000) / 1000) });
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
        remaining,
        feedback,
        controls: answerControls(q, 'quiz.answer', { v: 1, r: round.id, p: next.position }, t),
      }),
    };
  }

  async function scoreOf(tx: Tx | typeof db, roundId: string, memberId: string) {
    const total = await tx.quizRoundQuestion.count({ where: { roundId, status: { not: 'void' } } });
    const correct = await tx.quizAnswer.count({ where: { roundId, memberId, correct: true, voided: false } });
    return { correct, total };
  }

  async function finishAttempt(tx: Tx, attemptId: string, status: 'submitted' | 'expired', at: Date): Promise<boolean> {
    const { count } = await tx.quizAttempt.updateMany({
      where: { id: attemptId, status: 'open' },
      data: { status, finishedAt: at },
    });
    return count === 1;
  }

  async function results(tx: Tx | typeof db, round: RoundRow) {
    const invites = await tx.quizInvite.findMany({ where: { roundId: round.id } });
    const attempts = await tx.quizAttempt.findMany({ where: { roundId: round.id } });
    const memberIds = [...new Set([...invites.map((i) => i.memberId), ...attempts.map((a) => a.memberId)])];
    const members = await tx.member.findMany({ where: { id: { in: memberIds } }, include: { unit: true } });
    const byId = new Map(members.map((m) => [m.id, m]));
    const total = await tx.quizRoundQuestion.count({ where: { roundId: round.id, status: { not: 'void' } } });
    const answers = await tx.quizAnswer.findMany({
      where: { roundId: round.id, voided: false, correct: true },
      select: { memberId: true },
    });
    const correctBy = new Map<string, number>();
    for (const a of answers) correctBy.set(a.memberId, (correctBy.get(a.memberId) ?? 0) + 1);
    const taken = attempts
      .map((a) => {
        const m = byId.get(a.memberId);
        const used = Math.round(((a.finishedAt ?? clock.now()).getTime() - a.startedAt.getTime()) / 1000);
        return {
          memberId: a.memberId,
          name: m?.displayName ?? '?',
          unit: m?.unit?.name ?? '',
          correct: correctBy.get(a.memberId) ?? 0,
          total,
          usedSeconds: used,
          status: a.status,
          startedAt: a.startedAt,
        };
      })
      .sort((a, b) => b.correct - a.correct || a.usedSeconds - b.usedSeconds);
    const absent = invites
      .filter((i) => !attempts.some((a) => a.memberId === i.memberId))
      .map((i) => ({
        memberId: i.memberId,
        name: byId.get(i.memberId)?.displayName ?? '?',
        unit: byId.get(i.memberId)?.unit?.name ?? '',
      }));
    return { taken, absent, total };
  }

  function usedText(seconds: number): string {
    return t('quiz.test.used', { m: Math.floor(seconds / 60), s: seconds % 60 });
  }

  /** The results as an XLSX workbook: who took it with score and time, then the absentees. */
  async function exportResults(
    tx: Tx | typeof db,
    round: RoundRow,
    tz: string,
  ): Promise<{ name: string; bytes: Buffer }> {
    const r = await results(tx, round);
    const rows: (string | number)[][] = [
      ...r.taken.map((x) => [
        x.name,
        x.unit,
        t('quiz.test.status.taken'),
        x.correct,
        x.total,
        x.total ? Math.round((x.correct / x.total) * 100) : 0,
        formatLocal(x.startedAt, tz),
        usedText(x.usedSeconds),
      ]),
      ...r.absent.map((x) => [x.name, x.unit, t('quiz.test.status.absent'), '', r.total, '', '', '']),
    ];
    const bytes = await sheetBytes(
      `第${round.seq}场`,
      [
        { header: '姓名' },
        { header: '单位' },
        { header: '状态' },
        { header: '答对' },
        { header: '总题数' },
        { header: '正确率(%)' },
        { header: '开始时间', width: 16 },
        { header: '用时' },
      ],
      rows,
    );
    const name = safeFileName(
      t('quiz.test.file_name', { kind: kindTitle(round.kind), seq: round.seq, title: round.title }),
    );
    return { name: `${name}.xlsx`, bytes };
  }

  /** Stores the results sheet and offers it as a link fit for `platform` (where the card goes). */
  async function resultsDownload(
    tx: Tx | typeof db,
    round: RoundRow,
    tz: string,
    platform: string,
  ): Promise<OfferedDownload> {
    const file = await exportResults(tx, round, tz);
    return offerDownload(
      deps.files,
      t,
      {
        platform,
        orgId: round.orgId,
        name: file.name,
        contentType: XLSX_CONTENT_TYPE,
        bytes: file.bytes,
        buttonText: t('quiz.test.download'),
      },
      // Inside a transaction (the close) the file commits with the card that links to it.
      tx,
    );
  }

  /** The answer to 测试 导出: just the sheet's link (or why there is none). */
  function exportCard(round: RoundRow, download: OfferedDownload): Card {
    return notice({
      title: t('quiz.test.export_title', { kind: kindTitle(round.kind), seq: round.seq }),
      colour: 'green',
      text: t('quiz.test.exported', { seq: round.seq, title: round.title }),
      note: download.note,
      controls: download.link ? [download.link] : [],
    });
  }

  async function resultsCard(
    tx: Tx | typeof db,
    round: RoundRow,
    tz: string,
    makeupCloses: Date | null,
    download: OfferedDownload | null,
  ): Promise<Card> {
    const r = await results(tx, round);
    const lines: string[] = [];
    lines.push(t('quiz.test.results.summary', { taken: r.taken.length, absent: r.absent.length }));
    if (makeupCloses) lines.push(t('quiz.test.results.makeup', { closes: formatLocal(makeupCloses, tz) }));
    return notice({
      title: t('quiz.test.results.title', { kind: kindTitle(round.kind), seq: round.seq }),
      colour: 'green',
      text: lines.join('\n'),
      fields: [
        {
          label: t('quiz.test.results.absent'),
          value: r.absent.length ? r.absent.map((a) => a.name).join('、') : t('quiz.none'),
        },
      ],
      table: {
        columns: [t('quiz.col.member'), t('quiz.col.unit'), t('quiz.col.score'), t('quiz.col.used')],
        rows: r.taken.map((x) => [x.name, x.unit || '-', `${x.correct}/${x.total}`, usedText(x.usedSeconds)]),
      },
      note: download?.note ?? '',
      controls: download?.link ? [download.link] : [],
    });
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
    const settings = JSON.parse(round.settings) as TestSettings;
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
  const expireJob = defineJob({
    kind: ATTEMPT_EXPIRE,
    payload: z.object({ attemptId: z.string() }),
    async run({ tx, send }, { attemptId }) {
      const attempt = await tx.quizAttempt.findUnique({ where: { id: attemptId } });
      if (!attempt || !(await finishAttempt(tx, attemptId, 'expired', attempt.deadline))) return;
      const round = await tx.quizRound.findUniqueOrThrow({ where: { id: attempt.roundId } });
      const member = await tx.member.findUniqueOrThrow({ where: { id: attempt.memberId } });
      const s = await scoreOf(tx, round.id, attempt.memberId);
      await send.toUser(toUser(round, member.platformUserId), {
        key: 'quiz.test.expired',
        params: { seq: round.seq, correct: s.correct, total: s.total },
      });
    },
  });

  return {
    jobs: [openJob, closeJob, remindJob, expireJob],
    resultsDownload,
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
    nextQuestionCard,
    scoreOf,

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
      const settings = JSON.parse(round.settings) as TestSettings;
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
        card: notice({
          title: `${kindTitle(round.kind)} · 第${round.seq}场`,
          colour: 'green',
          text: t('quiz.test.submitted', { correct: s.correct, total: s.total }),
        }),
      };
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
