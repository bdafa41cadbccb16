import { DateTime } from 'luxon';
import { z } from 'zod';
import type { WorkingDays } from './working-days.ts';

/**
 * Recurrence rules, stored as JSON on ScheduledItem.recurrence. Times are
 * wall-clock times in the item's time zone; weekdays are ISO (1 = Monday).
 * The shapes cover what branches actually use: daily, every working day,
 * weekly on given weekdays, monthly/quarterly/yearly on a day, on the Nth
 * weekday, on the Nth or last working day ("the first working day after New
 * Year" is yearly, January, first working day).
 */
const time = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/);

export const daySelSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('day'), day: z.number().int().min(1).max(31) }),
  z.object({ type: z.literal('lastDay') }),
  z.object({
    type: z.literal('nthWeekday'),
    n: z.number().int().min(-1).max(5),
    weekday: z.number().int().min(1).max(7),
  }),
  z.object({ type: z.literal('workday'), n: z.number().int().min(-1).max(23) }),
]);

export const ruleSchema = z.discriminatedUnion('freq', [
  z.object({ freq: z.literal('daily'), time }),
  z.object({ freq: z.literal('workdays'), time }),
  z.object({ freq: z.literal('weekly'), weekdays: z.array(z.number().int().min(1).max(7)).min(1), time }),
  z.object({ freq: z.literal('monthly'), day: daySelSchema, time }),
  /** `month` is the month inside each quarter, 1..3. */
  z.object({ freq: z.literal('quarterly'), month: z.number().int().min(1).max(3), day: daySelSchema, time }),
  z.object({ freq: z.literal('yearly'), month: z.number().int().min(1).max(12), day: daySelSchema, time }),
]);

export type DaySel = z.infer<typeof daySelSchema>;
export type Rule = z.infer<typeof ruleSchema>;

export function isValidTimezone(tz: string): boolean {
  return DateTime.local().setZone(tz).isValid;
}

/** The local date (YYYY-MM-DD) of a day inside a month, or null when the month has no such day. */
function resolveDay(year: number, month: number, sel: DaySel, wd: WorkingDays): DateTime | null {
  const first = DateTime.utc(year, month, 1);
  const days = first.daysInMonth ?? 31;
  switch (sel.type) {
    case 'day':
      return sel.day <= days ? first.set({ day: sel.day }) : null;
    case 'lastDay':
      return first.set({ day: days });
    case 'nthWeekday': {
      if (sel.n === -1) {
        const last = first.set({ day: days });
        return last.minus({ days: (last.weekday - sel.weekday + 7) % 7 });
      }
      const d = first.plus({ days: ((sel.weekday - first.weekday + 7) % 7) + 7 * (sel.n - 1) });
      return d.month === month ? d : null;
    }
    case 'workday': {
      const list: DateTime[] = [];
      for (let i = 0; i < days; i++) {
        const d = first.plus({ days: i });
        if (wd.isWorkday(d.toISODate()!)) list.push(d);
      }
      return (sel.n === -1 ? list[list.length - 1] : list[sel.n - 1]) ?? null;
    }
  }
}

function at(date: DateTime, hhmm: string, tz: string): Date {
  const [hour, minute] = hhmm.split(':').map(Number);
  return DateTime.fromObject(
    { year: date.year, month: date.month, day: date.day, hour, minute },
    { zone: tz },
  ).toJSDate();
}

function monthMatches(rule: Rule, month: number): boolean {
  if (rule.freq === 'monthly') return true;
  if (rule.freq === 'quarterly') return (month - 1) % 3 === rule.month - 1;
  if (rule.freq === 'yearly') return month === rule.month;
  return false;
}

/**
 * The first occurrence strictly after `after`, or null when the rule never
 * fires again (within 12 years, enough for "Feb 29" and to call anything else
 * impossible). Throws CalendarDataMissing when it needs a year the holiday
 * calendar does not cover.
 */
export function nextOccurrence(rule: Rule, after: Date, tz: string, wd: WorkingDays): Date | null {
  const start = DateTime.fromJSDate(after, { zone: tz });
  const startDay = DateTime.utc(start.year, start.month, start.day);
  const ok = (d: Date | null): d is Date => d !== null && d.getTime() > after.getTime();
  switch (rule.freq) {
    case 'daily':
    case 'workdays':
    case 'weekly': {
      for (let i = 0; i < 400; i++) {
        const d = startDay.plus({ days: i });
        if (rule.freq === 'weekly' && !rule.weekdays.includes(d.weekday)) continue;
        if (rule.freq === 'workdays' && !wd.isWorkday(d.toISODate()!)) continue;
        const candidate = at(d, rule.time, tz);
        if (ok(candidate)) return candidate;
      }
      return null;
    }
    default: {
      for (let i = 0; i < 12 * 12 + 1; i++) {
        const m = DateTime.utc(start.year, start.month, 1).plus({ months: i });
        if (!monthMatches(rule, m.month)) continue;
        const d = resolveDay(m.year, m.month, rule.day, wd);
        if (!d) continue;
        const candidate = at(d, rule.time, tz);
        if (ok(candidate)) return candidate;
      }
      return null;
    }
  }
}

/** The next `count` occurrences after `after` (fewer when the rule ends). */
export function nextOccurrences(rule: Rule, after: Date, tz: string, wd: WorkingDays, count: number): Date[] {
  const out: Date[] = [];
  let cursor = after;
  while (out.length < count) {
    const next = nextOccurrence(rule, cursor, tz, wd);
    if (!next) break;
    out.push(next);
    cursor = next;
  }
  return out;
}

/** True when a rule depends on the holiday calendar. */
export function usesWorkingDays(rule: Rule): boolean {
  return rule.freq === 'workdays' || ('day' in rule && rule.day.type === 'workday');
}

const WEEKDAY_ZH = ['', '一', '二', '三', '四', '五', '六', '日'];

function daySelZh(sel: DaySel): string {
  switch (sel.type) {
    case 'day':
      return `${sel.day}日`;
    case 'lastDay':
      return '最后一天';
    case 'nthWeekday':
      return sel.n === -1 ? `最后一个周${WEEKDAY_ZH[sel.weekday]}` : `第${sel.n}个周${WEEKDAY_ZH[sel.weekday]}`;
    case 'workday':
      return sel.n === -1 ? '最后一个工作日' : sel.n === 1 ? '第一个工作日' : `第${sel.n}个工作日`;
  }
}

/**
 * How a rule reads in a confirmation ("每月最后一个工作日 17:00"). Built
 * from fixed Chinese fragments rather than catalogue keys because the words
 * are the rule grammar itself, the same ones the parser accepts.
 */
export function describeRule(rule: Rule): string {
  switch (rule.freq) {
    case 'daily':
      return `每天 ${rule.time}`;
    case 'workdays':
      return `每个工作日 ${rule.time}`;
    case 'weekly':
      return `每周${[...rule.weekdays]
        .sort((a, b) => a - b)
        .map((d) => WEEKDAY_ZH[d])
        .join('、')} ${rule.time}`;
    case 'monthly':
      return `每月${daySelZh(rule.day)} ${rule.time}`;
    case 'quarterly':
      return `每季度第${rule.month}个月${daySelZh(rule.day)} ${rule.time}`;
    case 'yearly':
      return rule.month === 1 && rule.day.type === 'workday' && rule.day.n === 1
        ? `每年元旦后第一个工作日 ${rule.time}`
        : `每年${rule.month}月${daySelZh(rule.day)} ${rule.time}`;
  }
}
