import { createRequire } from 'node:module';
import { z } from 'zod';
import type { Db } from '../../lib/db.ts';

/**
 * The Chinese working-day calendar (holidays and adjusted working weekends),
 * in layers: the data bundled with `chinese-days`, then years imported into
 * the database (HolidayYear, from the State Council notice), the later layer
 * winning for its whole year. This is the one place that answers "is this a
 * working day". A year that no layer has is never guessed as Monday–Friday
 * (that would schedule reminders on National Day): every question about it
 * throws CalendarDataMissing and the secretary is told instead.
 *
 * Questions are synchronous (recurrence rules walk days in a loop), so the
 * imported years are a cached table: read at start-up, re-read right after an
 * import on this instance and every few seconds on every instance (`start`),
 * so a confirm on one instance is seen by the others within seconds.
 */
export class CalendarDataMissing extends Error {
  constructor(readonly year: number) {
    super(`no Chinese holiday calendar for ${year}`);
    this.name = 'CalendarDataMissing';
  }
}

/** The message of CalendarDataMissing, as the scheduler stores it in ScheduledItem.lastError. */
export const MISSING_DATA_PREFIX = 'no Chinese holiday calendar for ';

/** A day off or an extra (adjusted) working day; every other day follows the weekend rule. */
export interface HolidayDay {
  /** YYYY-MM-DD */
  date: string;
  /** true: a day off; false: a working day on a weekend. */
  off: boolean;
  /** The festival it belongs to (元旦, 春节, 国庆节、中秋节 …). */
  name: string;
}

export const holidayDaysSchema = z.array(
  z.object({ date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/), off: z.boolean(), name: z.string() }),
);

export type YearSource =
  | { kind: 'bundled' }
  | {
      kind: 'imported';
      /** notice | holiday-cn | cli */
      source: string;
      byName: string | null;
      at: Date;
      revision: number;
    };

export interface CalendarYear {
  year: number;
  /** Sorted by date. */
  days: HolidayDay[];
  source: YearSource;
  /** The bundled data for this year too, when an import replaced it. */
  bundled: boolean;
}

export interface WorkingDays {
  /** `date` is a local calendar date, YYYY-MM-DD. */
  isWorkday(date: string): boolean;
  covers(year: number): boolean;
  /** Last year with holiday data in any layer. */
  readonly lastYear: number;
  /** The year as it is answered, with where it came from; null when no layer has it. */
  year(year: number): CalendarYear | null;
  /** Re-reads the imported years now (after an import). A no-op without a database. */
  refresh(): Promise<void>;
  /** Reads the imported layer from this database from now on (the composition root calls it). */
  attach(db: Db): void;
  /** Re-reads every `refreshMs` until `stop` (the calendar feature's start/stop). */
  start(): void;
  stop(): void;
}

interface CalendarData {
  holidays: Record<string, string>;
  workdays: Record<string, string>;
}

/** The bundled layer, by year: "2026-01-01" → "New Year's Day,元旦,1". */
function bundledYears(): Map<number, HolidayDay[]> {
  const require = createRequire(import.meta.url);
  const data = require('chinese-days/dist/chinese-days.json') as CalendarData;
  const byYear = new Map<number, HolidayDay[]>();
  const add = (date: string, off: boolean, value: string) => {
    const year = Number(date.slice(0, 4));
    const list = byYear.get(year) ?? [];
    list.push({ date, off, name: value.split(',')[1] ?? value });
    byYear.set(year, list);
  };
  for (const [date, v] of Object.entries(data.holidays)) add(date, true, v);
  for (const [date, v] of Object.entries(data.workdays)) add(date, false, v);
  for (const list of byYear.values()) list.sort((a, b) => a.date.localeCompare(b.date));
  return byYear;
}

let cachedBundle: Map<number, HolidayDay[]> | undefined;

interface Layer {
  days: HolidayDay[];
  byDate: Map<string, boolean>;
  source: YearSource;
}

function layer(days: HolidayDay[], source: YearSource): Layer {
  return { days, byDate: new Map(days.map((d) => [d.date, !d.off])), source };
}

function isWeekend(date: string): boolean {
  const d = new Date(`${date}T00:00:00Z`).getUTCDay();
  return d === 0 || d === 6;
}

export function createWorkingDays(
  options: {
    /** Which bundled years to use (tests pin "the package stops at 2026"); all by default. */
    years?: Set<number>;
    db?: Db;
    refreshMs?: number;
  } = {},
): WorkingDays {
  const bundle = (cachedBundle ??= bundledYears());
  const bundled = new Map<number, Layer>();
  for (const [year, days] of bundle) {
    if (!options.years || options.years.has(year)) bundled.set(year, layer(days, { kind: 'bundled' }));
  }
  // Years in `years` the package has no rows for (none in practice) are still covered: all ordinary days.
  for (const year of options.years ?? []) if (!bundled.has(year)) bundled.set(year, layer([], { kind: 'bundled' }));
  let imported = new Map<number, Layer>();
  let db = options.db;
  let timer: ReturnType<typeof setInterval> | undefined;
  let refreshing: Promise<void> | undefined;

  const layerOf = (year: number) => imported.get(year) ?? bundled.get(year);

  async function load(): Promise<void> {
    if (!db) return;
    const rows = await db.holidayYear.findMany();
    const next = new Map<number, Layer>();
    for (const row of rows) {
      const days = holidayDaysSchema.safeParse(JSON.parse(row.days));
      // A row this version cannot read is left out (strict: that year then has no imported layer).
      if (!days.success) continue;
      next.set(
        row.year,
        layer(days.data, {
          kind: 'imported',
          source: row.source,
          byName: row.importedByName,
          at: row.importedAt,
          revision: row.revision,
        }),
      );
    }
    imported = next;
  }

  return {
    get lastYear() {
      return Math.max(...bundled.keys(), ...imported.keys());
    },
    covers: (year) => layerOf(year) !== undefined,
    isWorkday(date) {
      const year = Number(date.slice(0, 4));
      const l = layerOf(year);
      if (!l) throw new CalendarDataMissing(year);
      return l.byDate.get(date) ?? !isWeekend(date);
    },
    year(year) {
      const l = layerOf(year);
      if (!l) return null;
      return { year, days: l.days, source: l.source, bundled: bundled.has(year) };
    },
    refresh() {
      // Concurrent callers share one read.
      refreshing ??= load().finally(() => (refreshing = undefined));
      return refreshing;
    },
    attach(next) {
      db = next;
    },
    start() {
      if (timer || !db) return;
      timer = setInterval(() => {
        this.refresh().catch(() => {
          // the next pass retries; the cached table stays as it was
        });
      }, options.refreshMs ?? 5000);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}

/** Binds a calendar to the app's database and reads the imported years before anything asks. */
export async function bindWorkingDays(workingDays: WorkingDays, db: Db): Promise<WorkingDays> {
  workingDays.attach(db);
  await workingDays.refresh();
  return workingDays;
}
