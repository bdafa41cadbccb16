import type { Clock } from '../../lib/clock.ts';
import { isUniqueViolation, type Db } from '../../lib/db.ts';
import { newId } from '../../lib/ids.ts';
import { HolidayImportError } from './holiday-notice.ts';
import type { HolidayDay } from './working-days.ts';

/**
 * The imported layer of the holiday calendar (HolidayYear) and its audit
 * log. A confirm names the revision it previewed (0: none imported); the
 * write is conditional on it, so when two secretaries confirm different data
 * for one year at once the database decides: the first commit wins (the
 * primary key, or the revision), the other is told and nothing of theirs is
 * written.
 */
export interface Actor {
  memberId: string | null;
  name: string;
  orgId: string | null;
}

export type ConfirmResult =
  | { ok: true; action: 'import' | 'replace'; revision: number; added: string[]; removed: string[] }
  | { ok: false; current: { byName: string | null; at: Date } | null };

const key = (d: HolidayDay) => `${d.date}${d.off ? '+' : '-'}${d.name}`;

/** What changes in the answers: days that become or stop being special (names ignored). */
export function diffDays(before: HolidayDay[], after: HolidayDay[]): { added: string[]; removed: string[] } {
  const kind = (d: HolidayDay) => `${d.date}${d.off ? '休' : '班'}`;
  const b = new Set(before.map(kind));
  const a = new Set(after.map(kind));
  return { added: [...a].filter((x) => !b.has(x)), removed: [...b].filter((x) => !a.has(x)) };
}

/**
 * Checks a list of days as the database will hold it (a confirm button's
 * payload is re-checked here, never trusted): real dates inside the year,
 * each once, extra working days on weekends.
 */
export function checkDays(year: number, days: HolidayDay[]): void {
  const seen = new Set<string>();
  for (const d of days) {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(d.date);
    const date = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : null;
    if (!m || !date || date.toISOString().slice(0, 10) !== d.date || Number(m[1]) !== year) {
      throw new HolidayImportError('holidays.json.bad_date', { item: d.name, date: d.date });
    }
    if (seen.has(d.date)) throw new HolidayImportError('holidays.json.twice', { item: d.name, date: d.date });
    seen.add(d.date);
    const wd = date.getUTCDay();
    if (!d.off && wd !== 0 && wd !== 6) {
      throw new HolidayImportError('holidays.notice.workday_not_weekend', {
        item: d.name,
        date: d.date,
        weekday: ['周日', '周一', '周二', '周三', '周四', '周五', '周六'][wd]!,
      });
    }
  }
  if (!days.some((d) => d.off)) throw new HolidayImportError('holidays.notice.no_items');
}

export function createHolidayStore(deps: { db: Db; clock: Clock }) {
  const { db, clock } = deps;

  return {
    /**
     * Stores a year if the imported revision is still `base`. `before` is
     * what the calendar answered for the year until now (for the audit).
     */
    async confirm(input: {
      year: number;
      days: HolidayDay[];
      source: string;
      base: number;
      actor: Actor;
      before: HolidayDay[];
    }): Promise<ConfirmResult> {
      checkDays(input.year, input.days);
      const now = clock.now();
      const days = JSON.stringify([...input.days].sort((a, b) => a.date.localeCompare(b.date)));
      const { added, removed } = diffDays(input.before, input.days);
      const who = {
        importedBy: input.actor.memberId,
        importedByName: input.actor.name,
        orgId: input.actor.orgId,
        importedAt: now,
      };
      try {
        return await db.$transaction(async (tx) => {
          let revision: number;
          if (input.base === 0) {
            await tx.holidayYear.create({ data: { year: input.year, days, source: input.source, ...who } });
            revision = 1;
          } else {
            const { count } = await tx.holidayYear.updateMany({
              where: { year: input.year, revision: input.base },
              data: { days, source: input.source, revision: input.base + 1, ...who },
            });
            if (count !== 1) throw new Conflict();
            revision = input.base + 1;
          }
          const action = input.base === 0 ? 'import' : 'replace';
          await tx.holidayAudit.create({
            data: {
              id: newId(),
              year: input.year,
              action,
              actor: input.actor.memberId,
              actorName: input.actor.name,
              orgId: input.actor.orgId,
              at: now,
              detail: JSON.stringify({ source: input.source, days: input.days.length, added, removed }),
            },
          });
          return { ok: true as const, action, revision, added, removed };
        });
      } catch (err) {
        if (!(err instanceof Conflict) && !isUniqueViolation(err)) throw err;
        const row = await db.holidayYear.findUnique({ where: { year: input.year } });
        return { ok: false, current: row ? { byName: row.importedByName, at: row.importedAt } : null };
      }
    },

    /** Removes an imported year; false when none is imported. */
    async remove(year: number, actor: Actor, after: HolidayDay[]): Promise<boolean> {
      return db.$transaction(async (tx) => {
        const row = await tx.holidayYear.findUnique({ where: { year } });
        if (!row) return false;
        const { count } = await tx.holidayYear.deleteMany({ where: { year, revision: row.revision } });
        if (count !== 1) return false;
        const before = JSON.parse(row.days) as HolidayDay[];
        const { added, removed } = diffDays(before, after);
        await tx.holidayAudit.create({
          data: {
            id: newId(),
            year,
            action: 'remove',
            actor: actor.memberId,
            actorName: actor.name,
            orgId: actor.orgId,
            at: clock.now(),
            detail: JSON.stringify({ source: row.source, days: before.length, added, removed }),
          },
        });
        return true;
      });
    },

    revision: async (year: number) => (await db.holidayYear.findUnique({ where: { year } }))?.revision ?? 0,

    audit: (take = 20) => db.holidayAudit.findMany({ orderBy: [{ at: 'desc' }, { id: 'asc' }], take }),
  };
}

export type HolidayStore = ReturnType<typeof createHolidayStore>;

class Conflict extends Error {}

/** Days in a button payload: "0101+元旦" (off) / "0104-元旦" (extra working day). */
export function encodeDays(days: HolidayDay[]): string[] {
  return days.map((d) => key(d).slice(5).replace('-', ''));
}

export function decodeDays(year: number, codes: string[]): HolidayDay[] {
  return codes.map((c) => {
    const m = /^(\d{2})(\d{2})([+-])(.+)$/.exec(c);
    if (!m) throw new HolidayImportError('holidays.json.bad_date', { item: c, date: c });
    return { date: `${year}-${m[1]}-${m[2]}`, off: m[3] === '+', name: m[4]! };
  });
}
