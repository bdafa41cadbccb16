import { createRequire } from 'node:module';
import chineseDays from 'chinese-days';

/**
 * The Chinese working-day calendar (holidays and adjusted working weekends),
 * from `chinese-days`. The package answers "workday" for any weekday of a
 * year it has no data for, which would silently schedule reminders on
 * National Day; so every question about a year outside its data throws
 * CalendarDataMissing and the secretary is told instead.
 */
export class CalendarDataMissing extends Error {
  constructor(readonly year: number) {
    super(`no Chinese holiday calendar for ${year}`);
    this.name = 'CalendarDataMissing';
  }
}

export interface WorkingDays {
  /** `date` is a local calendar date, YYYY-MM-DD. */
  isWorkday(date: string): boolean;
  covers(year: number): boolean;
  /** Last year with holiday data. */
  lastYear: number;
}

interface CalendarData {
  holidays: Record<string, string>;
  workdays: Record<string, string>;
}

function yearsInPackage(): Set<number> {
  const require = createRequire(import.meta.url);
  const data = require('chinese-days/dist/chinese-days.json') as CalendarData;
  return new Set(Object.keys(data.holidays).map((d) => Number(d.slice(0, 4))));
}

let cachedYears: Set<number> | undefined;

export function createWorkingDays(options: { years?: Set<number> } = {}): WorkingDays {
  const years = options.years ?? (cachedYears ??= yearsInPackage());
  const lastYear = Math.max(...years);
  return {
    lastYear,
    covers: (year) => years.has(year),
    isWorkday(date) {
      const year = Number(date.slice(0, 4));
      if (!years.has(year)) throw new CalendarDataMissing(year);
      return chineseDays.isWorkday(date);
    },
  };
}
