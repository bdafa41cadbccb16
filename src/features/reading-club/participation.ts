import { randomUUID } from 'node:crypto';
import type { Identity } from '../../bot/context.ts';
import { UserError } from '../../bot/errors.ts';
import { isUniqueViolation } from '../../lib/db.ts';
import { signIn } from './attendance.ts';
import type { Club } from './core.ts';
import { loadSettings, localTime } from './model.ts';
import {
  archiveClosesAt,
  latestStarted,
  sessionBySeq,
  sessionEndsAt,
  sessionOpenAt,
  type SessionRow,
} from './sessions.ts';

/**
 * Longest note accepted, in characters (about three pages). Below the
 * command parser's 4,000-character cut, so a note typed in the chat is
 * refused whole rather than silently shortened.
 */
export const NOTE_MAX_CHARS = 3000;

/**
 * What members do around a session: sign in, hand in a note, rate it,
 * suggest and support topics. Each "once" is a unique key.
 */
export function createParticipation(club: Club) {
  const { db, clock } = club.deps;

  /** The session a sign-in now goes to, or the precise reason there is none. */
  async function signInNow(identity: Identity, seq?: number): Promise<SessionRow> {
    const now = clock.now();
    const settings = await loadSettings(db, identity.orgId);
    const s =
      seq !== undefined
        ? await sessionBySeq(db, identity.orgId, seq)
        : await sessionOpenAt(db, identity.orgId, now, settings);
    if (!s) {
      // Just after a session, say its window closed; otherwise when the next one opens.
      const last = await latestStarted(db, identity.orgId, now);
      if (last && now.getTime() - sessionEndsAt(last, settings).getTime() < 86_400_000) {
        throw new UserError('club.checkin.outside', {
          seq: last.seq,
          opens: localTime(new Date(last.startsAt.getTime() - settings.checkinBeforeMin * 60_000), identity.timezone),
          closes: localTime(sessionEndsAt(last, settings), identity.timezone),
        });
      }
      const next = await db.clubSession.findFirst({
        where: { orgId: identity.orgId, startsAt: { gt: now } },
        orderBy: { startsAt: 'asc' },
      });
      throw new UserError(next ? 'club.checkin.not_open_next' : 'club.checkin.not_open', {
        seq: next?.seq ?? 0,
        opens: next
          ? localTime(new Date(next.startsAt.getTime() - settings.checkinBeforeMin * 60_000), identity.timezone)
          : '',
      });
    }
    const opens = new Date(s.startsAt.getTime() - settings.checkinBeforeMin * 60_000);
    const closes = sessionEndsAt(s, settings);
    if (now < opens || now > closes)
      throw new UserError('club.checkin.outside', {
        seq: s.seq,
        opens: localTime(opens, identity.timezone),
        closes: localTime(closes, identity.timezone),
      });
    return s;
  }

  return {
    async checkin(identity: Identity, seq?: number): Promise<SessionRow> {
      const s = await signInNow(identity, seq);
      await db.$transaction((tx) =>
        signIn(
          tx,
          s,
          { id: identity.memberId, unitId: identity.unitId, displayName: identity.displayName },
          clock.now(),
          null,
        ),
      );
      return s;
    },

    /** A secretary signs in someone who was there without a phone; recorded as such. */
    async checkinFor(identity: Identity, memberIds: string[]): Promise<{ session: SessionRow; names: string[] }> {
      if (memberIds.length === 0) throw new UserError('club.checkin.for_who');
      const s = await signInNow(identity);
      const names: string[] = [];
      await db.$transaction(async (tx) => {
        for (const id of memberIds) {
          const m = await tx.member.findUniqueOrThrow({ where: { id } });
          await signIn(tx, s, m, clock.now(), identity.memberId);
          names.push(m.displayName);
        }
      });
      return { session: s, names };
    },

    /** The session a note or a rating goes to now: the latest started, while its archive is open. */
    async archiveSession(identity: Identity, seq?: number): Promise<SessionRow> {
      const now = clock.now();
      const s =
        seq !== undefined ? await sessionBySeq(db, identity.orgId, seq) : await latestStarted(db, identity.orgId, now);
      if (!s) throw new UserError('club.note.no_session');
      if (s.startsAt > now) throw new UserError('club.note.not_yet', { seq: s.seq });
      const settings = await loadSettings(db, identity.orgId);
      const closes = archiveClosesAt(s, settings);
      if (now > closes)
        throw new UserError('club.note.closed', { seq: s.seq, closed: localTime(closes, identity.timezone) });
      return s;
    },

    async note(identity: Identity, text: string, seq?: number): Promise<{ session: SessionRow; edited: boolean }> {
      const body = text.trim();
      if (!body) throw new UserError('club.note.empty');
      if (body.length > NOTE_MAX_CHARS)
        throw new UserError('club.note.too_long', { length: body.length, max: NOTE_MAX_CHARS });
      const s = await this.archiveSession(identity, seq);
      const now = clock.now();
      const existing = await db.clubNote.findUnique({
        where: { sessionId_memberId: { sessionId: s.id, memberId: identity.memberId } },
      });
      await db.clubNote.upsert({
        where: { sessionId_memberId: { sessionId: s.id, memberId: identity.memberId } },
        create: {
          id: randomUUID(),
          sessionId: s.id,
          memberId: identity.memberId,
          text: body,
          createdAt: now,
          updatedAt: now,
        },
        update: { text: body, updatedAt: now },
      });
      return { session: s, edited: !!existing };
    },

    async rate(identity: Identity, score: number, comment: string, seq?: number): Promise<SessionRow> {
      if (!Number.isInteger(score) || score < 1 || score > 5)
        throw new UserError('club.rate.bad_score', { score: String(score) });
      if (comment.length > 500) throw new UserError('club.rate.comment_too_long', { max: 500 });
      const s = await this.archiveSession(identity, seq);
      const now = clock.now();
      await db.clubRating.upsert({
        where: { sessionId_memberId: { sessionId: s.id, memberId: identity.memberId } },
        create: { sessionId: s.id, memberId: identity.memberId, score, comment, at: now },
        update: { score, comment, at: now },
      });
      return s;
    },

    async suggestTopic(identity: Identity, text: string): Promise<number> {
      const body = text.trim();
      if (!body) throw new UserError('club.topic.empty');
      if (body.length > 100) throw new UserError('club.topic.too_long', { max: 100 });
      for (let attempt = 0; ; attempt++) {
        try {
          return await db.$transaction(async (tx) => {
            const last = await tx.clubTopic.aggregate({ where: { orgId: identity.orgId }, _max: { seq: true } });
            const seq = (last._max.seq ?? 0) + 1;
            const id = randomUUID();
            await tx.clubTopic.create({
              data: { id, orgId: identity.orgId, seq, text: body, memberId: identity.memberId, createdAt: clock.now() },
            });
            // Whoever suggests a topic supports it.
            await tx.clubTopicVote.create({ data: { topicId: id, memberId: identity.memberId, at: clock.now() } });
            return seq;
          });
        } catch (err) {
          if (attempt < 3 && isUniqueViolation(err)) continue;
          throw err;
        }
      }
    },

    async support(identity: Identity, seq: number): Promise<{ text: string; votes: number }> {
      const topic = await db.clubTopic.findUnique({ where: { orgId_seq: { orgId: identity.orgId, seq } } });
      if (!topic) throw new UserError('club.topic.no_such', { seq });
      try {
        await db.clubTopicVote.create({ data: { topicId: topic.id, memberId: identity.memberId, at: clock.now() } });
      } catch (err) {
        if (isUniqueViolation(err)) throw new UserError('club.topic.already', { seq });
        throw err;
      }
      return { text: topic.text, votes: await db.clubTopicVote.count({ where: { topicId: topic.id } }) };
    },

    /** Topics ranked by support (then the earlier first). */
    async rankedTopics(orgId: string) {
      const topics = await db.clubTopic.findMany({
        where: { orgId },
        include: { _count: { select: { votes: true } } },
      });
      return topics
        .map((x) => ({ seq: x.seq, text: x.text, votes: x._count.votes, at: x.createdAt }))
        .sort((a, b) => b.votes - a.votes || a.seq - b.seq);
    },
  };
}

export type Participation = ReturnType<typeof createParticipation>;
