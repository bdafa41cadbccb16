import { DateTime } from 'luxon';
import type { WorkingDays } from '../calendar/working-days.ts';
import { CalendarDataMissing } from '../calendar/working-days.ts';
import { parseSchedule, TimeParseError } from '../calendar/parse-time.ts';
import { UserError } from '../../bot/errors.ts';

/**
 * Dates and working days for supervision, always in the organisation's time
 * zone. A deadline given as a date means 18:00 that day (the end of the
 * working day, docs/decisions/supervision.md); warnings and chasing count
 * working days on the Chinese holiday calendar.
 */
export const DEFAULT_DUE_TIME = '18:00';
/** Warnings go out this many working days before the deadline. */
export const WARNING_DAYS = [3, 1] as const;
/** When warnings, supervision notices and stand-up questions go out on a working day. */
export const NOTICE_TIME = '09:00';

export const localDate = (at: Date, tz: string): string => DateTime.fromJSDate(at, { zone: tz }).toISODate()!;

const WEEKDAY = ['', '周一', '周二', '周三', '周四', '周五', '周六', '周日'];

/** "12-20（周日）18:00", with the year when it is not this year's. */
export function formatDue(at: Date, tz: string, now: Date): string {
  const d = DateTime.fromJSDate(at, { zone: tz });
  const sameYear = d.year === DateTime.fromJSDate(now, { zone: tz }).year;
  return `${d.toFormat(sameYear ? 'MM-dd' : 'yyyy-MM-dd')}（${WEEKDAY[d.weekday]}）${d.toFormat('HH:mm')}`;
}

export const formatTime = (at: Date, tz: string): string =>
  DateTime.fromJSDate(at, { zone: tz }).toFormat('MM-dd HH:mm');

/**
 * Whether a local date is a working day. A year without holiday data falls
 * back to Monday–Friday: a deadline in such a year must still be chased, and
 * the calendar feature already tells the secretaries that data is missing.
 */
export function isWorkday(wd: WorkingDays, date: string): boolean {
  try {
    return wd.isWorkday(date);
  } catch (err) {
    if (!(err instanceof CalendarDataMissing)) throw err;
    const weekday = DateTime.fromISO(date).weekday;
    return weekday <= 5;
  }
}

/** The n-th working day before a local date (not counting the date itself). */
export function workdayBefore(wd: WorkingDays, date: string, n: number): string {
  let d = DateTime.fromISO(date);
  for (let found = 0; found < n;) {
    d = d.minus({ days: 1 });
    if (isWorkday(wd, d.toISODate()!)) found++;
  }
  return d.toISODate()!;
}

/** Working days in (from, to]: how many working days a deadline on `from` is overdue on `to`. */
export function workdaysAfter(wd: WorkingDays, from: string, to: string): number {
  let n = 0;
  for (let d = DateTime.fromISO(from).plus({ days: 1 }); d.toISODate()! <= to; d = d.plus({ days: 1 })) {
    if (isWorkday(wd, d.toISODate()!)) n++;
    if (n > 366) break;
  }
  return n;
}

/** A local date and "HH:mm" as an instant. */
export function atLocal(date: string, time: string, tz: string): Date {
  const [hour, minute] = time.split(':').map(Number);
  return DateTime.fromISO(date, { zone: tz }).set({ hour, minute, second: 0, millisecond: 0 }).toJSDate();
}

export type Light = 'green' | 'yellow' | 'red' | 'done';

/**
 * The status light of something due at `dueAt`: red once overdue, yellow from
 * the first warning day (3 working days before), green before that.
 */
export function lightOf(dueAt: Date, done: boolean, now: Date, tz: string, wd: WorkingDays): Light {
  if (done) return 'done';
  if (now.getTime() >= dueAt.getTime()) return 'red';
  const warnFrom = workdayBefore(wd, localDate(dueAt, tz), WARNING_DAYS[0]);
  return localDate(now, tz) >= warnFrom ? 'yellow' : 'green';
}

const TIME = /^([01]?\d|2[0-3])[:：]([0-5]\d)$/;

/**
 * A deadline the secretary typed: `12-20`, `2026-12-20`, `12月20日`, `下周五`
 * (the calendar's parser), optionally followed by a time `17:00`. A date
 * without a year is this year's, or next year's when this year's is long
 * gone (typing 01-10 in December). Refuses a date that is not one and a
 * deadline already past, with the catalogue's precise messages.
 */
export function parseDeadline(words: string[], now: Date, tz: string): { at: Date; used: number } {
  const [first, second] = words;
  if (!first) throw new UserError('supervision.due.missing');
  const today = DateTime.fromJSDate(now, { zone: tz }).startOf('day');
  const timeMatch = second !== undefined ? TIME.exec(second.normalize('NFKC')) : null;
  const time = timeMatch ? `${timeMatch[1]!.padStart(2, '0')}:${timeMatch[2]}` : DEFAULT_DUE_TIME;
  const used = timeMatch ? 2 : 1;
  const word = first.normalize('NFKC');

  let date: DateTime;
  const full = /^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$/.exec(word);
  const short = /^(\d{1,2})[-/.月](\d{1,2})[日号]?$/.exec(word);
  if (full || short) {
    const [y, m, d] = full
      ? [Number(full[1]), Number(full[2]), Number(full[3])]
      : [today.year, Number(short![1]), Number(short![2])];
    date = DateTime.fromObject({ year: y, month: m, day: d }, { zone: tz });
    if (!date.isValid) throw new UserError('supervision.due.invalid', { input: first.slice(0, 20) });
    // Without a year, a date more than half a year ago means next year's.
    if (!full && date < today.minus({ days: 182 })) date = date.plus({ years: 1 });
  } else {
    try {
      const parsed = parseSchedule(`${first} 截止`, today.toJSDate(), tz);
      if (parsed.kind !== 'once') throw new UserError('supervision.due.invalid', { input: first.slice(0, 20) });
      date = DateTime.fromJSDate(parsed.at, { zone: tz });
    } catch (err) {
      if (err instanceof TimeParseError) throw new UserError('supervision.due.invalid', { input: first.slice(0, 20) });
      throw err;
    }
  }
  const at = atLocal(date.toISODate()!, time, tz);
  if (at.getTime() <= now.getTime()) {
    throw new UserError('supervision.due.past', {
      when: DateTime.fromJSDate(at, { zone: tz }).toFormat('yyyy-MM-dd HH:mm'),
    });
  }
  return { at, used };
}
