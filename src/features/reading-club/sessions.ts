import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import { UserError } from '../../bot/errors.ts';
import { isUniqueViolation, type Db, type Tx } from '../../lib/db.ts';
import type { ClubFormat, ClubPart, ClubSettings } from './model.ts';

/** A session as the plan, the import and the one-liner describe it, before it has a number. */
export interface SessionDraft {
  /** The spreadsheet row or form the draft came from, for messages. */
  line?: number;
  /** 第N期 given by the secretary (an import column); allocated otherwise. */
  seq?: number;
  startsAt: Date;
  theme: string;
  place: string;
  format: ClubFormat;
  parts: ClubPart[];
  tag: string;
  /** null: the next unit in the rotation. */
  unitId: string | null;
}

export type SessionRow = Awaited<ReturnType<Db['clubSession']['findFirstOrThrow']>>;

export interface Where {
  orgId: string;
  platform: string;
  chatId: string;
  memberId: string;
  tz: string;
}

export function yearMonth(at: Date, tz: string): { year: number; month: number } {
  const d = DateTime.fromJSDate(at, { zone: tz });
  return { year: d.year, month: d.month };
}

/** The units the co-host rotation goes through, in their order (the order they were created), minus the excluded. */
export async function rotationUnits(db: Db | Tx, orgId: string, settings: ClubSettings) {
  const units = await db.unit.findMany({ where: { orgId }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
  return units.filter((u) => !settings.excludedUnits.includes(u.id));
}

/**
 * The co-host of the month after the latest session before `at`: the unit
 * after that session's in the rotation (the first unit when there is none).
 * `planned` are sessions of the same plan not yet written, in date order.
 */
export async function nextUnit(
  db: Db | Tx,
  orgId: string,
  at: Date,
  settings: ClubSettings,
  planned: { startsAt: Date; unitId: string | null }[] = [],
): Promise<string | null> {
  const units = await rotationUnits(db, orgId, settings);
  if (units.length === 0) return null;
  const stored = await db.clubSession.findFirst({
    where: { orgId, startsAt: { lt: at }, unitId: { not: null } },
    orderBy: { startsAt: 'desc' },
  });
  const earlier = planned.filter((p) => p.startsAt < at && p.unitId !== null).at(-1);
  const prev = earlier && (!stored || earlier.startsAt > stored.startsAt) ? earlier.unitId : stored?.unitId;
  // The previous co-host may have been excluded since: continue after its place in the full order.
  const all = await db.unit.findMany({ where: { orgId }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
  const from = all.findIndex((u) => u.id === prev);
  if (from === -1) return units[0]!.id;
  for (let i = 1; i <= all.length; i++) {
    const candidate = all[(from + i) % all.length]!;
    if (units.some((u) => u.id === candidate.id)) return candidate.id;
  }
  return units[0]!.id;
}

/**
 * Writes drafts as sessions (all or none, inside `tx`), numbering them after
 * the organisation's last 第N期 in date order; a number given must go
 * forward. Checks what needs the database: one session a month, numbers.
 */
export async function insertSessions(
  tx: Tx,
  where: Where,
  drafts: SessionDraft[],
  settings: ClubSettings,
): Promise<SessionRow[]> {
  const sorted = [...drafts].sort((a, b) => a.startsAt.getTime() - b.startsAt.getTime());
  const last = await tx.clubSession.aggregate({ where: { orgId: where.orgId }, _max: { seq: true } });
  let seq = last._max.seq ?? 0;
  const rows: SessionRow[] = [];
  const planned: { startsAt: Date; unitId: string | null }[] = [];
  for (const d of sorted) {
    const { year, month } = yearMonth(d.startsAt, where.tz);
    const taken = await tx.clubSession.findUnique({
      where: { orgId_year_month: { orgId: where.orgId, year, month } },
    });
    if (taken) throw new UserError('club.month_taken', { line: lineOf(d), year, month, seq: taken.seq });
    if (d.seq !== undefined) {
      if (d.seq <= seq) throw new UserError('club.seq_backwards', { line: lineOf(d), seq: d.seq, last: seq });
      seq = d.seq;
    } else seq += 1;
    const unitId = d.unitId ?? (await nextUnit(tx, where.orgId, d.startsAt, settings, planned));
    planned.push({ startsAt: d.startsAt, unitId });
    try {
      rows.push(
        await tx.clubSession.create({
          data: {
            id: randomUUID(),
            orgId: where.orgId,
            seq,
            year,
            month,
            theme: d.theme,
            startsAt: d.startsAt,
            place: d.place,
            format: d.format,
            parts: JSON.stringify(d.parts),
            tag: d.tag,
            unitId,
            platform: where.platform,
            chatId: where.chatId,
            createdBy: where.memberId,
          },
        }),
      );
    } catch (err) {
      // Two secretaries planning at once: the unique keys decide, the loser is told.
      if (isUniqueViolation(err)) throw new UserError('club.concurrent');
      throw err;
    }
  }
  return rows;
}

function lineOf(d: SessionDraft): string {
  return d.line === undefined ? '' : `第 ${d.line} 行：`;
}

export async function sessionBySeq(db: Db | Tx, orgId: string, seq: number): Promise<SessionRow> {
  const row = await db.clubSession.findUnique({ where: { orgId_seq: { orgId, seq } } });
  if (!row) throw new UserError('club.no_session', { seq });
  return row;
}

export async function sessionsOfYear(db: Db | Tx, orgId: string, year: number): Promise<SessionRow[]> {
  return db.clubSession.findMany({ where: { orgId, year }, orderBy: { startsAt: 'asc' } });
}

/** The session whose sign-in window holds `now`. */
export async function sessionOpenAt(db: Db | Tx, orgId: string, now: Date, s: ClubSettings) {
  return db.clubSession.findFirst({
    where: {
      orgId,
      startsAt: {
        lte: new Date(now.getTime() + s.checkinBeforeMin * 60_000),
        gte: new Date(now.getTime() - s.checkinAfterMin * 60_000),
      },
    },
    orderBy: { startsAt: 'asc' },
  });
}

/** The latest session that has started by `now` (notes and ratings go to it). */
export async function latestStarted(db: Db | Tx, orgId: string, now: Date) {
  return db.clubSession.findFirst({ where: { orgId, startsAt: { lte: now } }, orderBy: { startsAt: 'desc' } });
}

/** When a session's notes close: `archiveDays` after its start. */
export function archiveClosesAt(session: { startsAt: Date }, s: ClubSettings): Date {
  return new Date(session.startsAt.getTime() + s.archiveDays * 86_400_000);
}

export function sessionEndsAt(session: { startsAt: Date }, s: ClubSettings): Date {
  return new Date(session.startsAt.getTime() + s.checkinAfterMin * 60_000);
}
