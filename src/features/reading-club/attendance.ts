import { UserError } from '../../bot/errors.ts';
import { isUniqueViolation, type Db, type Tx } from '../../lib/db.ts';
import type { SessionRow } from './sessions.ts';

/**
 * Sign-in and attendance (场次, 人次, rate). Who is expected is everyone in
 * the organisation; a sign-in is one row per session and member, so a
 * second one (two clicks racing, a retry) is refused by the database.
 */
export async function signIn(
  tx: Tx,
  session: SessionRow,
  member: { id: string; unitId: string | null; displayName: string },
  at: Date,
  byMemberId: string | null,
): Promise<void> {
  const existing = await tx.clubCheckin.findUnique({
    where: { sessionId_memberId: { sessionId: session.id, memberId: member.id } },
  });
  if (existing) throw new UserError('club.checkin.again', { name: member.displayName, seq: session.seq });
  try {
    await tx.clubCheckin.create({
      data: { sessionId: session.id, memberId: member.id, unitId: member.unitId, at, byMemberId },
    });
  } catch (err) {
    if (isUniqueViolation(err))
      throw new UserError('club.checkin.again', { name: member.displayName, seq: session.seq });
    throw err;
  }
}

export interface SessionAttendance {
  expected: number;
  present: number;
  /** Signed in by a secretary. */
  onBehalf: number;
  absent: { id: string; name: string; unit: string }[];
  present_: { id: string; name: string; unit: string; late: boolean; byProxy: boolean }[];
  byUnit: { unit: string; expected: number; present: number }[];
}

export async function sessionAttendance(db: Db | Tx, session: SessionRow): Promise<SessionAttendance> {
  const members = await db.member.findMany({
    where: { orgId: session.orgId },
    include: { unit: true },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
  });
  const checkins = await db.clubCheckin.findMany({ where: { sessionId: session.id } });
  const byMember = new Map(checkins.map((c) => [c.memberId, c]));
  const units = new Map<string, { unit: string; expected: number; present: number }>();
  const absent: SessionAttendance['absent'] = [];
  const present: SessionAttendance['present_'] = [];
  for (const m of members) {
    const unit = m.unit?.name ?? '—';
    const u = units.get(unit) ?? { unit, expected: 0, present: 0 };
    u.expected++;
    const c = byMember.get(m.id);
    if (c) {
      u.present++;
      present.push({ id: m.id, name: m.displayName, unit, late: c.at > session.startsAt, byProxy: !!c.byMemberId });
    } else absent.push({ id: m.id, name: m.displayName, unit });
    units.set(unit, u);
  }
  return {
    expected: members.length,
    present: present.length,
    onBehalf: present.filter((p) => p.byProxy).length,
    absent,
    present_: present,
    byUnit: [...units.values()],
  };
}

export interface YearAttendance {
  /** 场次: sessions held. */
  sessions: number;
  /** 人次: sign-ins in them. */
  personTimes: number;
  perMember: { name: string; unit: string; attended: number; rate: number }[];
  perUnit: { unit: string; personTimes: number; rate: number }[];
}

/** Attendance over the sessions of a year that have started by `now`. */
export async function yearAttendance(db: Db | Tx, orgId: string, year: number, now: Date): Promise<YearAttendance> {
  const sessions = await db.clubSession.findMany({ where: { orgId, year, startsAt: { lte: now } } });
  const ids = sessions.map((s) => s.id);
  const checkins = ids.length ? await db.clubCheckin.findMany({ where: { sessionId: { in: ids } } }) : [];
  const members = await db.member.findMany({
    where: { orgId },
    include: { unit: true },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
  });
  const count = new Map<string, number>();
  for (const c of checkins) count.set(c.memberId, (count.get(c.memberId) ?? 0) + 1);
  const n = sessions.length;
  const perMember = members.map((m) => {
    const attended = count.get(m.id) ?? 0;
    return { name: m.displayName, unit: m.unit?.name ?? '—', attended, rate: n ? attended / n : 0 };
  });
  const units = new Map<string, { unit: string; personTimes: number; members: number }>();
  for (const m of perMember) {
    const u = units.get(m.unit) ?? { unit: m.unit, personTimes: 0, members: 0 };
    u.personTimes += m.attended;
    u.members++;
    units.set(m.unit, u);
  }
  return {
    sessions: n,
    personTimes: checkins.length,
    perMember,
    perUnit: [...units.values()].map((u) => ({
      unit: u.unit,
      personTimes: u.personTimes,
      rate: n && u.members ? u.personTimes / (n * u.members) : 0,
    })),
  };
}

export function percent(rate: number): string {
  return `${Math.round(rate * 100)}%`;
}
