import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import { z } from 'zod';
import type { FeatureDeps } from '../../bot/feature.ts';
import { defineJob, type JobContext } from '../../bot/jobs.ts';
import type { Db, Tx } from '../../lib/db.ts';
import { sessionAttendance } from './attendance.ts';
import { absenceCard, build, checkinCard, closingCard, sessionFields } from './cards.ts';
import {
  describeOffsets,
  loadSettings,
  reminderOffsetSchema,
  localTime,
  nextWorkingMorning,
  reminderTime,
  type ClubSettings,
  type ReminderOffset,
} from './model.ts';
import { reviewCard } from './review.ts';
import { sessionEndsAt, type SessionRow } from './sessions.ts';

/**
 * The club's scheduled work. Each item carries the session's start time when
 * it was scheduled; a session moved since finds its old items stale and they
 * do nothing (the move scheduled new ones), so no item ids need tracking.
 */
const sessionPayload = z.object({ v: z.literal(1), sessionId: z.string(), startsAt: z.string() });
const remindPayload = sessionPayload.extend({
  label: z.string(),
  last: z.boolean().default(false),
  /** The offset, so a time estimated without the year's holiday data is checked again when it fires. */
  offset: reminderOffsetSchema.optional(),
});

/** How early a reminder estimated without holiday data fires to look again. */
const ESTIMATE_MARGIN_MS = 10 * 86_400_000;

export const REVIEW_OPEN = ['pending', 'returned'];

export function createClubJobs(deps: FeatureDeps) {
  const { db, jobs, clock, workingDays, directory } = deps;

  function exactOrEstimate(startsAt: Date, tz: string, o: ReminderOffset): Date {
    try {
      return reminderTime(startsAt, tz, o, workingDays);
    } catch {
      return reminderTime(startsAt, tz, o, workingDays, true);
    }
  }

  async function current(tx: Tx, p: { sessionId: string; startsAt: string }): Promise<SessionRow | null> {
    const s = await tx.clubSession.findUnique({ where: { id: p.sessionId } });
    return s && s.startsAt.toISOString() === p.startsAt ? s : null;
  }

  /** The session's group, unless the bot has left it (then its group cards are skipped). */
  async function inGroup(tx: Tx, s: SessionRow): Promise<boolean> {
    const chat = await tx.chat.findUnique({
      where: { platform_platformChatId: { platform: s.platform, platformChatId: s.chatId } },
    });
    return !chat?.leftAt;
  }

  async function tzOf(tx: Tx, orgId: string): Promise<string> {
    return (await tx.organisation.findUnique({ where: { id: orgId } }))?.timezone ?? deps.defaultTimezone;
  }

  async function unitName(tx: Tx, unitId: string | null): Promise<string> {
    if (!unitId) return '';
    return (await tx.unit.findUnique({ where: { id: unitId } }))?.name ?? '';
  }

  const remind = defineJob({
    kind: 'club.remind',
    payload: remindPayload,
    async run({ tx, send, t, item }: JobContext, p) {
      const s = await current(tx, p);
      if (!s || !(await inGroup(tx, s))) return;
      const tz = await tzOf(tx, s.orgId);
      // Planned before the year's holidays were known (it fires early on purpose): go at the
      // time the calendar gives now, or Monday to Friday's if it still has no data.
      if (p.offset?.unit === 'workday') {
        const exact = exactOrEstimate(s.startsAt, tz, p.offset);
        if (exact.getTime() > item.dueAt.getTime() + 60_000 && exact > clock.now()) {
          await jobs.schedule(remind, { orgId: s.orgId, dueAt: exact, payload: p, timezone: tz }, tx);
          return;
        }
      }
      const chat = { platform: s.platform, chatId: s.chatId, orgId: s.orgId };
      const card = build({
        header: { title: t('club.remind.title', { seq: s.seq, when: p.label }), colour: 'blue' },
        elements: [
          { type: 'fields', fields: sessionFields(t, s, tz, await unitName(tx, s.unitId)) },
          // A quiz-contest session: the secretary starts the live contest from the group card
          // (the quiz feature's own action, so the club starts it without copying it).
          ...(s.format === 'quiz' && p.last
            ? [
                { type: 'note' as const, text: t('club.remind.quiz_note') },
                {
                  type: 'buttons' as const,
                  buttons: [
                    {
                      text: t('club.remind.quiz_button'),
                      style: 'primary' as const,
                      actionId: 'quiz.contest.start',
                      payload: { v: 1, tag: s.tag || null, count: 10 },
                    },
                  ],
                },
              ]
            : []),
        ],
      });
      await send.toChat(chat, { card });
    },
  });

  const open = defineJob({
    kind: 'club.open',
    payload: sessionPayload,
    async run({ tx, send, t }, p) {
      const s = await current(tx, p);
      if (!s || !(await inGroup(tx, s))) return;
      const tz = await tzOf(tx, s.orgId);
      const settings = await loadSettings(tx, s.orgId);
      const until = DateTime.fromJSDate(sessionEndsAt(s, settings), { zone: tz }).toFormat('HH:mm');
      await send.toChat(
        { platform: s.platform, chatId: s.chatId, orgId: s.orgId },
        { card: checkinCard({ t, cards: deps.cards }, s, tz, await unitName(tx, s.unitId), until) },
      );
    },
  });

  const close = defineJob({
    kind: 'club.close',
    payload: sessionPayload,
    async run({ tx, send, t }, p) {
      const s = await current(tx, p);
      if (!s) return;
      const a = await sessionAttendance(tx, s);
      if (await inGroup(tx, s))
        await send.toChat(
          { platform: s.platform, chatId: s.chatId, orgId: s.orgId },
          { card: closingCard({ t, cards: deps.cards }, s, a) },
        );
      await send.toSecretaries(s.orgId, { card: absenceCard(t, s, a) });
    },
  });

  /** Who submits a session's plan: the contact a secretary named, else the unit's first contact or head, else its first member. */
  async function reviewContact(tx: Tx | Db, s: SessionRow, named: string | null): Promise<string | null> {
    if (named) return named;
    if (!s.unitId) return null;
    const roles = await directory.unitRoles(s.unitId, tx);
    const pick = roles.find((r) => r.role === 'contact') ?? roles.find((r) => r.role === 'head');
    if (pick) return pick.memberId;
    const first = await tx.member.findFirst({
      where: { unitId: s.unitId },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    });
    return first?.id ?? null;
  }

  async function nudge(
    tx: Tx,
    send: JobContext['send'],
    t: JobContext['t'],
    s: SessionRow,
    kind: 'reminded' | 'chased',
  ) {
    const review = await tx.clubReview.findUnique({ where: { sessionId: s.id } });
    if (!review || !REVIEW_OPEN.includes(review.state)) return false;
    const tz = await tzOf(tx, s.orgId);
    const contact = await reviewContact(tx, s, review.contactMemberId);
    const text = t(kind === 'reminded' ? 'club.review.remind' : 'club.review.chase', {
      seq: s.seq,
      theme: s.theme,
      due: localTime(review.dueAt, tz),
    });
    if (contact) await send.toMember(contact, { card: reviewCard(t, s, text) });
    else await send.toSecretaries(s.orgId, { key: 'club.review.no_contact', params: { seq: s.seq } });
    await tx.clubReviewEvent.create({
      data: { id: randomUUID(), sessionId: s.id, state: kind, byMemberId: null, at: clock.now(), comment: '' },
    });
    return true;
  }

  const reviewRemind = defineJob({
    kind: 'club.review.remind',
    payload: sessionPayload,
    async run({ tx, send, t }, p) {
      const s = await current(tx, p);
      if (s) await nudge(tx, send, t, s, 'reminded');
    },
  });

  const reviewChase = defineJob({
    kind: 'club.review.chase',
    payload: sessionPayload,
    async run({ tx, send, t, item }, p) {
      const s = await current(tx, p);
      if (!s || s.startsAt <= clock.now()) return;
      if (!(await nudge(tx, send, t, s, 'chased'))) return;
      // Chased again the next working morning, until it is in or the session has come.
      const next = nextWorkingMorning(clock.now(), item.timezone, workingDays);
      if (next < s.startsAt)
        await jobs.schedule(reviewChase, { orgId: s.orgId, dueAt: next, payload: p, timezone: item.timezone }, tx);
    },
  });

  /** Schedules everything a session needs from now on (reminders, sign-in, closing, review), in `tx`. */
  async function scheduleFor(tx: Tx, s: SessionRow, tz: string, settings?: ClubSettings): Promise<void> {
    const cfg = settings ?? (await loadSettings(tx, s.orgId));
    const now = clock.now();
    const base = { v: 1 as const, sessionId: s.id, startsAt: s.startsAt.toISOString() };
    const at = (dueAt: Date) => ({ orgId: s.orgId, dueAt, timezone: tz });
    const smallest = [...cfg.reminders].sort(
      (a, b) => (a.unit === 'hour' ? a.n : a.n * 24) - (b.unit === 'hour' ? b.n : b.n * 24),
    )[0];
    for (const o of cfg.reminders) {
      // A year without holiday data yet (a plan made in December): the item fires ten days
      // before the Monday-to-Friday estimate (more than any holiday week) and moves itself
      // to the right time then, when the year is normally imported.
      let when: Date;
      try {
        when = reminderTime(s.startsAt, tz, o, workingDays);
      } catch {
        when = new Date(reminderTime(s.startsAt, tz, o, workingDays, true).getTime() - ESTIMATE_MARGIN_MS);
        if (when <= now) when = reminderTime(s.startsAt, tz, o, workingDays, true);
      }
      if (when <= now) continue;
      await jobs.schedule(
        remind,
        { ...at(when), payload: { ...base, label: describeOffsets([o]), last: o === smallest, offset: o } },
        tx,
      );
    }
    const opensAt = new Date(s.startsAt.getTime() - cfg.checkinBeforeMin * 60_000);
    if (opensAt > now) await jobs.schedule(open, { ...at(opensAt), payload: base }, tx);
    const endsAt = sessionEndsAt(s, cfg);
    if (endsAt > now) await jobs.schedule(close, { ...at(endsAt), payload: base }, tx);

    // The month's plan review: due `reviewDays` before, 18:00; reminded two days before that; chased after.
    const due = DateTime.fromJSDate(s.startsAt, { zone: tz })
      .minus({ days: cfg.reviewDays })
      .set({ hour: 18, minute: 0, second: 0, millisecond: 0 });
    const existing = await tx.clubReview.findUnique({ where: { sessionId: s.id } });
    if (!existing) {
      await tx.clubReview.create({ data: { sessionId: s.id, dueAt: due.toJSDate(), updatedAt: now } });
      await tx.clubReviewEvent.create({ data: { id: randomUUID(), sessionId: s.id, state: 'pending', at: now } });
    } else {
      await tx.clubReview.update({ where: { sessionId: s.id }, data: { dueAt: due.toJSDate(), updatedAt: now } });
    }
    const remindAt = due.minus({ days: 2 }).set({ hour: 9 }).toJSDate();
    if (remindAt > now) await jobs.schedule(reviewRemind, { ...at(remindAt), payload: base }, tx);
    const chaseAt = nextWorkingMorning(due.toJSDate(), tz, workingDays);
    if (chaseAt < s.startsAt)
      await jobs.schedule(reviewChase, { ...at(chaseAt > now ? chaseAt : now), payload: base }, tx);
  }

  return { jobs: [remind, open, close, reviewRemind, reviewChase], scheduleFor, reviewContact, unitName, db };
}

export type ClubJobs = ReturnType<typeof createClubJobs>;
