import { waitForWorkingDays } from '../calendar/waiting.ts';
import { CalendarDataMissing } from '../calendar/working-days.ts';
import { z } from 'zod';
import { UserError } from '../../bot/errors.ts';
import { defineJob, type JobContext } from '../../bot/jobs.ts';
import type { PausedLine } from '../../bot/context.ts';
import type { MessageKey, MessageParams } from '../../bot/messages.ts';
import { isUniqueViolation, queryAlone, sqlStamp, type Tx } from '../../lib/db.ts';
import { newId } from '../../lib/ids.ts';
import { describeAnswer } from './answer-check.ts';
import { quizDailyCard } from './cards.ts';
import { candidateIds, loadQuestions, pickFresh } from './questions.ts';
import { availableQuestions, createRound, nextSeq, settingsOf } from './rounds.ts';
import { answerControls, typeLabel, type QuizDeps } from './shared.ts';
import { endOfLocalDay, formatLocal, nextWorkingDayAt, parseTimeOfDay } from './time.ts';
import { answerResponseColumn } from './answer-store.ts';

/**
 * Daily practice (每日一练): per group, every Chinese working day at a set
 * time (holidays skipped, adjusted working weekends included), N questions
 * nobody in the group has seen since the bank was last exhausted. Each
 * member answers on their own until midnight; feedback is private (toast).
 * Each push schedules the next one, so the plan lives in the scheduler.
 */
export const DAILY_PUSH = 'quiz.daily.push';
export const DAILY_CLOSE = 'quiz.daily.close';

export function createDaily(deps: QuizDeps) {
  const { db, clock, cards, jobs, messages } = deps;
  const t = (k: MessageKey, p?: MessageParams) => messages.t(k, p);

  async function dailyCard(
    tx: Tx | typeof db,
    roundId: string,
    tz: string,
    closed: boolean,
    summary = '',
    /** A private card shows this member's results on the questions they answered. */
    memberId?: string,
  ) {
    const round = await tx.quizRound.findUniqueOrThrow({ where: { id: roundId } });
    const rqs = await tx.quizRoundQuestion.findMany({ where: { roundId }, orderBy: { position: 'asc' } });
    // The member's own answers, the one just acknowledged included (folded or still in the journal).
    const mine = memberId
      ? new Map((await deps.answers.memberAnswers(tx, roundId, memberId)).map((a) => [a.position, a] as const))
      : new Map<number, { correct: boolean; response: string }>();
    const qs = await loadQuestions(
      tx,
      rqs.map((r) => r.questionId),
    );
    return quizDailyCard(cards, {
      seq: round.seq,
      date: formatLocal(round.opensAt, tz).split(' ')[0]!,
      closes: formatLocal(new Date(round.closesAt!.getTime() - 60_000), tz, false),
      closed,
      summary,
      questions: rqs.map((r) => {
        const q = qs.get(r.questionId)!;
        const a = mine.get(r.position);
        return {
          position: r.position,
          typeLabel: typeLabel(t, q),
          stem: q.stem,
          options: q.options,
          controls: answerControls(q, 'quiz.answer', { v: 1, r: roundId, p: r.position }, t),
          result: a
            ? t(a.correct ? 'quiz.daily.result_right' : 'quiz.daily.result_wrong', {
                mine: describeAnswer(q, answerResponseColumn.parse(a.response)),
                answer: describeAnswer(q),
              })
            : '',
        };
      }),
    });
  }

  async function scheduleNext(
    tx: Tx,
    plan: { id: string; orgId: string; time: string },
    after: Date,
    tz: string,
  ): Promise<Date> {
    const at = nextWorkingDayAt(after, parseTimeOfDay(plan.time)!, tz, deps.workingDays);
    const { id } = await jobs.schedule(
      pushJob,
      { orgId: plan.orgId, dueAt: at, payload: { planId: plan.id }, timezone: tz },
      tx,
    );
    await tx.quizDailyPlan.update({ where: { id: plan.id }, data: { itemId: id } });
    return at;
  }

  async function push({ item, tx, send }: JobContext, planId: string): Promise<void> {
    const plan = await tx.quizDailyPlan.findUnique({ where: { id: planId } });
    // A plan that was switched off or re-timed has a newer item; this one is stale.
    if (!plan || !plan.enabled || plan.itemId !== item.id) return;
    const tz = item.timezone;
    const now = clock.now();
    try {
      await scheduleNext(tx, plan, now > item.dueAt ? now : item.dueAt, tz);
    } catch (err) {
      if (!(err instanceof CalendarDataMissing)) throw err;
      // Today's questions still go out; the next push waits for the year's holiday data and
      // resumes by itself when it is imported (features/calendar/waiting.ts). The group is told why, once.
      const waiting = await waitForWorkingDays(tx, {
        orgId: plan.orgId,
        kind: DAILY_PUSH,
        payload: { planId: plan.id },
        rule: { freq: 'workdays', time: plan.time },
        timezone: tz,
        year: err.year,
        once: true,
        dueAt: item.dueAt,
      });
      await tx.quizDailyPlan.update({ where: { id: plan.id }, data: { itemId: waiting.id } });
      await send.toChat(plan, { key: 'quiz.daily.paused_no_calendar', params: { year: err.year } });
    }

    const ids = await candidateIds(tx, plan.orgId, plan.tag);
    if (ids.length === 0) {
      await send.toChat(plan, { key: 'quiz.daily.no_questions' });
      return;
    }
    const previous = await tx.quizRound.findFirst({ where: { planId: plan.id }, orderBy: { opensAt: 'desc' } });
    const used = await tx.quizRoundQuestion.findMany({
      where: {
        questionId: { in: ids },
        roundId: {
          in: (await tx.quizRound.findMany({ where: { planId: plan.id }, select: { id: true } })).map((r) => r.id),
        },
      },
      select: { questionId: true, roundId: true },
    });
    const roundTimes = new Map(
      (await tx.quizRound.findMany({ where: { planId: plan.id }, select: { id: true, opensAt: true } })).map((r) => [
        r.id,
        r.opensAt.getTime(),
      ]),
    );
    const lastUsed = new Map<string, number>();
    for (const u of used)
      lastUsed.set(u.questionId, Math.max(lastUsed.get(u.questionId) ?? 0, roundTimes.get(u.roundId) ?? 0));
    const picked = pickFresh(ids, Math.min(plan.count, ids.length), lastUsed);

    const closesAt = endOfLocalDay(now, tz);
    const cardId = plan.private ? null : newId();
    const round = await createRound(
      tx,
      {
        orgId: plan.orgId,
        seq: await nextSeq(tx, plan.orgId),
        kind: 'daily',
        platform: plan.platform,
        chatId: plan.chatId,
        title: t('quiz.daily.title'),
        tag: plan.tag,
        status: 'running',
        settings: settingsOf('daily', { private: plan.private }),
        opensAt: now,
        closesAt,
        planId: plan.id,
        prevRoundId: previous?.id ?? null,
        cardRef: cardId,
        createdBy: plan.createdBy,
      },
      picked,
      { status: 'open', openedAt: now, deadline: closesAt },
    );
    const card = await dailyCard(tx, round.id, tz, false);
    if (cardId) {
      await send.toChat(plan, { card }, { id: cardId });
    } else {
      const members = await tx.member.findMany({
        where: { orgId: plan.orgId, platform: plan.platform },
        select: { platformUserId: true },
      });
      for (const m of members) await send.toUser({ ...plan, userId: m.platformUserId }, { card });
      await send.toChat(plan, { key: 'quiz.daily.sent_private', params: { count: members.length } });
    }
    await jobs.schedule(
      closeJob,
      { orgId: plan.orgId, dueAt: closesAt, payload: { roundId: round.id }, timezone: tz },
      tx,
    );
  }

  async function close({ item, tx, send }: JobContext, roundId: string): Promise<void> {
    const { count } = await tx.quizRound.updateMany({
      where: { id: roundId, status: 'running' },
      data: { status: 'closed' },
    });
    if (count !== 1) return;
    await tx.quizRoundQuestion.updateMany({ where: { roundId, status: 'open' }, data: { status: 'closed' } });
    const round = await tx.quizRound.findUniqueOrThrow({ where: { id: roundId } });
    if (!round.cardRef) return;
    await deps.answers.settle(tx);
    const answers = await tx.quizAnswer.findMany({
      where: { roundId, voided: false },
      select: { memberId: true, correct: true },
    });
    const people = new Set(answers.map((a) => a.memberId)).size;
    const rate = answers.length ? Math.round((answers.filter((a) => a.correct).length / answers.length) * 100) : 0;
    await send.updateCard(
      {
        platform: round.platform,
        target: { kind: 'chat', id: round.chatId! },
        messageId: round.cardRef,
        orgId: round.orgId,
      },
      await dailyCard(tx, roundId, item.timezone, true, t('quiz.daily.summary', { people, rate })),
    );
  }

  // Each push schedules the next one; the close sums up the group card at midnight.
  const pushJob = defineJob({
    kind: DAILY_PUSH,
    payload: z.object({ planId: z.string() }),
    run: (ctx, { planId }) => push(ctx, planId),
  });
  const closeJob = defineJob({
    kind: DAILY_CLOSE,
    payload: z.object({ roundId: z.string() }),
    run: (ctx, { roundId }) => close(ctx, roundId),
  });

  return {
    jobs: [pushJob, closeJob],
    /** The member's own copy of a private daily card, after an answer. */
    memberCard(roundId: string, memberId: string, tz: string) {
      return dailyCard(db, roundId, tz, false, '', memberId);
    },

    async enable(input: {
      orgId: string;
      tz: string;
      platform: string;
      chatId: string;
      memberId: string;
      time: string;
      count: number;
      tag: string | null;
      private: boolean;
    }): Promise<{ next: Date | null; waitsFor?: number }> {
      const tod = parseTimeOfDay(input.time);
      if (!tod) throw new UserError('quiz.daily.bad_time', { time: input.time });
      await availableQuestions(db, input.orgId, input.tag, input.count);
      const time = `${String(tod.hour).padStart(2, '0')}:${String(tod.minute).padStart(2, '0')}`;
      for (let attempt = 0; ; attempt++) {
        try {
          return await db.$transaction(async (tx) => {
            const existing = await tx.quizDailyPlan.findUnique({
              where: { platform_chatId: { platform: input.platform, chatId: input.chatId } },
            });
            if (existing?.itemId) await jobs.cancel(existing.itemId, tx);
            const data = {
              time,
              count: input.count,
              tag: input.tag,
              private: input.private,
              enabled: true,
              createdBy: input.memberId,
            };
            const plan = existing
              ? await tx.quizDailyPlan.update({ where: { id: existing.id }, data })
              : await tx.quizDailyPlan.create({
                  data: { id: newId(), orgId: input.orgId, platform: input.platform, chatId: input.chatId, ...data },
                });
            try {
              return { next: (await scheduleNext(tx, plan, clock.now(), input.tz)) as Date | null };
            } catch (err) {
              if (!(err instanceof CalendarDataMissing)) throw err;
              // The next working day is in a year without holiday data (late December): the plan is
              // on and waits; it starts by itself once the year is imported (features/calendar/waiting.ts).
              const waiting = await waitForWorkingDays(tx, {
                orgId: plan.orgId,
                kind: DAILY_PUSH,
                payload: { planId: plan.id },
                rule: { freq: 'workdays', time },
                timezone: input.tz,
                year: err.year,
                once: true,
                dueAt: clock.now(),
              });
              await tx.quizDailyPlan.update({ where: { id: plan.id }, data: { itemId: waiting.id } });
              return { next: null, waitsFor: err.year };
            }
          });
        } catch (err) {
          if (attempt < 2 && isUniqueViolation(err)) continue;
          throw err;
        }
      }
    },

    async disable(platform: string, chatId: string): Promise<boolean> {
      return db.$transaction(async (tx) => {
        const plan = await tx.quizDailyPlan.findUnique({ where: { platform_chatId: { platform, chatId } } });
        if (!plan || !plan.enabled) return false;
        if (plan.itemId) await jobs.cancel(plan.itemId, tx);
        await tx.quizDailyPlan.update({ where: { id: plan.id }, data: { enabled: false, itemId: null } });
        return true;
      });
    },

    /**
     * The bot left the group: switch its plan off (the plan row stays, so
     * `每日一练 开启` brings it back as it was) and close today's group card
     * quietly; its closing update could no longer reach the group. Private
     * daily cards keep running to midnight: they live in private chats.
     */
    async pauseChat(platform: string, chatId: string, tx: Tx): Promise<PausedLine[]> {
      const running = await tx.quizRound.findMany({
        where: { platform, chatId, kind: 'daily', status: 'running', cardRef: { not: null } },
        select: { id: true },
      });
      for (const r of running) {
        await tx.quizRound.update({ where: { id: r.id }, data: { status: 'closed' } });
        await tx.quizRoundQuestion.updateMany({ where: { roundId: r.id, status: 'open' }, data: { status: 'closed' } });
      }
      const plan = await tx.quizDailyPlan.findUnique({ where: { platform_chatId: { platform, chatId } } });
      if (!plan || !plan.enabled) return [];
      if (plan.itemId) await jobs.cancel(plan.itemId, tx);
      await tx.quizDailyPlan.update({ where: { id: plan.id }, data: { enabled: false, itemId: null } });
      const resume = [
        t('quiz.daily.resume'),
        plan.time,
        String(plan.count),
        plan.tag ?? '',
        plan.private ? t('quiz.daily.resume_private') : '',
      ]
        .filter(Boolean)
        .join(' ');
      return [{ key: 'quiz.left.daily', params: { time: plan.time, count: plan.count, resume } }];
    },

    async status(platform: string, chatId: string) {
      const plan = await db.quizDailyPlan.findUnique({ where: { platform_chatId: { platform, chatId } } });
      if (!plan || !plan.enabled) return null;
      const item = plan.itemId ? await db.scheduledItem.findUnique({ where: { id: plan.itemId } }) : null;
      return { plan, next: item?.status === 'active' ? item.dueAt : null };
    },

    /**
     * After a member's daily answer: when they have answered every question (`total`, which the
     * answer path knows), their streak moves — one upsert, atomic on both databases, instead of a
     * transaction of four statements (a completed day was most of bench:feishu-ingest's Prisma
     * statements).
     */
    async completion(
      round: { id: string; planId: string | null; prevRoundId: string | null; orgId: string },
      memberId: string,
      total: number,
    ) {
      const mine = await deps.answers.memberAnswers(db, round.id, memberId);
      if (mine.length < total || !round.planId) return null;
      const correct = mine.filter((a) => a.correct).length;
      const { sql, args } = streakUpsert(deps.provider === 'postgresql', {
        planId: round.planId,
        memberId,
        orgId: round.orgId,
        roundId: round.id,
        now: clock.now(),
        prevRoundId: round.prevRoundId,
      });
      // Committed on its own: on SQLite a direct statement would otherwise ride in whichever
      // transaction is open (a fold's) and vanish with it.
      const rows = await queryAlone<{ current: number | bigint }>(db, deps.sql, sql, ...args);
      return { correct, total, streak: rows[0] ? Number(rows[0].current) : null };
    },
  };
}

export type Daily = ReturnType<typeof createDaily>;

/**
 * A member's streak after completing `round`: one more when their last completed round was the
 * plan's previous one, unchanged when it is this one (a second completion), else 1. All SET
 * expressions read the row as it was; the new round and time come from `excluded`.
 */
export function streakUpsert(
  pg: boolean,
  v: { planId: string; memberId: string; orgId: string; roundId: string; now: Date; prevRoundId: string | null },
): { sql: string; args: unknown[] } {
  const args: unknown[] = [];
  const p = (value: unknown) => (args.push(value), pg ? `$${args.length}` : '?');
  const values = [v.planId, v.memberId, v.orgId].map(p).join(', ');
  const round = p(v.roundId);
  const now = p(pg ? v.now : sqlStamp(v.now));
  const next = () => `CASE WHEN "QuizStreak"."lastRoundId" = excluded."lastRoundId" THEN "QuizStreak"."current"
    WHEN "QuizStreak"."lastRoundId" = ${p(v.prevRoundId)} THEN "QuizStreak"."current" + 1 ELSE 1 END`;
  const sql = `INSERT INTO "QuizStreak" ("planId", "memberId", "orgId", "current", "best", "lastRoundId", "updatedAt")
    VALUES (${values}, 1, 1, ${round}, ${now})
    ON CONFLICT ("planId", "memberId") DO UPDATE SET
      "current" = ${next()},
      "best" = ${pg ? 'GREATEST' : 'MAX'}("QuizStreak"."best", ${next()}),
      "lastRoundId" = excluded."lastRoundId",
      "updatedAt" = excluded."updatedAt"
    RETURNING "current"`;
  return { sql, args };
}
