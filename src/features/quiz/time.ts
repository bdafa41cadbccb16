import { createWorkingDays, type WorkingDays } from '../calendar/working-days.ts';

/**
 * Calendar arithmetic in the organisation's time zone with Intl only (no
 * zone database of our own), and Chinese working days from chinese-days
 * (statutory holidays off, adjusted working weekends on).
 */
export interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(tz, f);
  }
  return f;
}

export function localParts(at: Date, tz: string): LocalParts {
  const parts: Record<string, number> = {};
  for (const p of formatter(tz).formatToParts(at)) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return {
    year: parts.year!,
    month: parts.month!,
    day: parts.day!,
    hour: parts.hour! % 24,
    minute: parts.minute!,
    second: parts.second!,
  };
}

/** The instant at which the wall clock in `tz` shows the given local time. */
export function zonedTime(p: Omit<LocalParts, 'second'> & { second?: number }, tz: string): Date {
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second ?? 0);
  // Two passes settle the offset even next to a DST change.
  let guess = asUtc;
  for (let i = 0; i < 2; i++) {
    const seen = localParts(new Date(guess), tz);
    const seenUtc = Date.UTC(seen.year, seen.month - 1, seen.day, seen.hour, seen.minute, seen.second);
    guess += asUtc - seenUtc;
  }
  return new Date(guess);
}

export function isoDate(p: { year: number; month: number; day: number }): string {
  return `${p.year}-${String(p.month).padStart(2, '0')}-${String(p.day).padStart(2, '0')}`;
}

function addDays(p: { year: number; month: number; day: number }, n: number) {
  const d = new Date(Date.UTC(p.year, p.month - 1, p.day + n));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** The calendar the tests use when they pass none: the package's own data. */
const defaultWorkingDays = (): WorkingDays => createWorkingDays();

/** "09:00" → {hour, minute}; null when it is not a time of day. */
export function parseTimeOfDay(text: string): { hour: number; minute: number } | null {
  const m = /^(\d{1,2})[:：](\d{2})$/.exec(text.normalize('NFKC').trim());
  if (!m) return null;
  const hour = Number(m[1]);
  const minute = Number(m[2]);
  if (hour > 23 || minute > 59) return null;
  return { hour, minute };
}

/** The first working day strictly after `after` whose HH:MM (in tz) is later than `after`. */
export function nextWorkingDayAt(
  after: Date,
  time: { hour: number; minute: number },
  tz: string,
  // The calendar feature's working days: a year the holiday data does not cover throws
  // CalendarDataMissing instead of guessing (chinese-days alone would call every weekday
  // of such a year a working day, National Day included).
  workingDays: WorkingDays = defaultWorkingDays(),
): Date {
  const today = localParts(after, tz);
  for (let i = 0; i < 400; i++) {
    const day = addDays(today, i);
    if (!workingDays.isWorkday(isoDate(day))) continue;
    const at = zonedTime({ ...day, ...time }, tz);
    if (at.getTime() > after.getTime()) return at;
  }
  throw new Error('no working day within 400 days');
}

/** Midnight at the end of the local day containing `at`. */
export function endOfLocalDay(at: Date, tz: string): Date {
  return zonedTime({ ...addDays(localParts(at, tz), 1), hour: 0, minute: 0 }, tz);
}

export type PeriodKind = 'week' | 'month' | 'year';

/** ISO week (Monday first, as Chinese calendars count) of a local date. */
function isoWeek(p: { year: number; month: number; day: number }): { year: number; week: number } {
  const d = new Date(Date.UTC(p.year, p.month - 1, p.day));
  const dow = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - dow);
  const yearStart = new Date(Date.UTC(d.getUTCFullYear(), 0, 1));
  const week = Math.ceil(((d.getTime() - yearStart.getTime()) / 86400000 + 1) / 7);
  return { year: d.getUTCFullYear(), week };
}

/** The period keys an instant counts towards: W2026-10, M2026-03, Y2026. */
export function periodKey(kind: PeriodKind, at: Date, tz: string): string {
  const p = localParts(at, tz);
  if (kind === 'year') return `Y${p.year}`;
  if (kind === 'month') return `M${p.year}-${String(p.month).padStart(2, '0')}`;
  const w = isoWeek(p);
  return `W${w.year}-${String(w.week).padStart(2, '0')}`;
}

/**
 * Every answer needs its period keys, and Intl formatting is the slow part
 * of writing a batch; keys cannot change within a quarter-hour of UTC in any
 * zone (offsets are whole quarter-hours), so they are cached per slot.
 */
const keyCache = new Map<string, string[]>();
const SLOT_MS = 15 * 60_000;

export function periodKeys(at: Date, tz: string): string[] {
  const slot = `${tz}|${Math.floor(at.getTime() / SLOT_MS)}`;
  let keys = keyCache.get(slot);
  if (!keys) {
    keys = [periodKey('week', at, tz), periodKey('month', at, tz), periodKey('year', at, tz)];
    if (keyCache.size > 10_000) keyCache.clear();
    keyCache.set(slot, keys);
  }
  return keys;
}

/** Start and end instants of a period key, for recomputing a tally from answers. */
export function periodRange(key: string, tz: string): { start: Date; end: Date } {
  const y = /^Y(\d{4})$/.exec(key);
  if (y) {
    const year = Number(y[1]);
    return {
      start: zonedTime({ year, month: 1, day: 1, hour: 0, minute: 0 }, tz),
      end: zonedTime({ year: year + 1, month: 1, day: 1, hour: 0, minute: 0 }, tz),
    };
  }
  const m = /^M(\d{4})-(\d{2})$/.exec(key);
  if (m) {
    const year = Number(m[1]);
    const month = Number(m[2]);
    const next = month === 12 ? { year: year + 1, month: 1 } : { year, month: month + 1 };
    return {
      start: zonedTime({ year, month, day: 1, hour: 0, minute: 0 }, tz),
      end: zonedTime({ ...next, day: 1, hour: 0, minute: 0 }, tz),
    };
  }
  const w = /^W(\d{4})-(\d{2})$/.exec(key);
  if (!w) throw new Error(`bad period key ${key}`);
  // Monday of ISO week 1 is the Monday of the week holding 4 January.
  const jan4 = new Date(Date.UTC(Number(w[1]), 0, 4));
  const monday = addDays(
    { year: jan4.getUTCFullYear(), month: 1, day: 4 },
    -((jan4.getUTCDay() || 7) - 1) + (Number(w[2]) - 1) * 7,
  );
  return {
    start: zonedTime({ ...monday, hour: 0, minute: 0 }, tz),
    end: zonedTime({ ...addDays(monday, 7), hour: 0, minute: 0 }, tz),
  };
}

/** "3月5日 09:00" style, for cards. */
export function formatLocal(at: Date, tz: string, withDate = true): string {
  const p = localParts(at, tz);
  const hm = `${String(p.hour).padStart(2, '0')}:${String(p.minute).padStart(2, '0')}`;
  return withDate ? `${p.month}月${p.day}日 ${hm}` : hm;
}

/**
 * A local date-time as secretaries type it: "2026-03-05 09:00",
 * "2026-03-05T09:00", "3-5 09:00", "3月5日9:00", or "09:00" (today).
 */
export function parseLocalDateTime(text: string, now: Date, tz: string): Date | null {
  const t = text.normalize('NFKC').trim();
  const today = localParts(now, tz);
  let m = /^(?:(\d{4})[-/年])?(\d{1,2})[-/月](\d{1,2})日?(?:[T\s_]*)(\d{1,2})[:：](\d{2})$/.exec(t);
  if (m) {
    const year = m[1] ? Number(m[1]) : today.year;
    const month = Number(m[2]);
    const day = Number(m[3]);
    const hour = Number(m[4]);
    const minute = Number(m[5]);
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59) return null;
    const at = zonedTime({ year, month, day, hour, minute }, tz);
    // Reject 2月30日 and the like, which Date would roll over.
    const back = localParts(at, tz);
    if (back.month !== month || back.day !== day) return null;
    return at;
  }
  m = /^(\d{1,2})[:：](\d{2})$/.exec(t);
  if (m) {
    const hour = Number(m[1]);
    const minute = Number(m[2]);
    if (hour > 23 || minute > 59) return null;
    return zonedTime({ year: today.year, month: today.month, day: today.day, hour, minute }, tz);
  }
  return null;
}
