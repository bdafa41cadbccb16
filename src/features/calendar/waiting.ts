import { z } from 'zod';
import type { Clock } from '../../lib/clock.ts';
import type { Db, Tx } from '../../lib/db.ts';
import { newId } from '../../lib/ids.ts';
import { nextOccurrence, ruleSchema, type Rule } from './recurrence.ts';
import { CalendarDataMissing, MISSING_DATA_PREFIX, type WorkingDays } from './working-days.ts';

/**
 * Scheduled work that waits for a year of holiday data. Such an item is a
 * ScheduledItem in status `stalled` whose lastError is CalendarDataMissing's
 * message ("no Chinese holiday calendar for 2027"): the scheduler leaves it
 * there when a rule runs into a year without data, and features put one
 * there directly (a reminder whose first time is in that year; the next
 * daily practice). `stalled` keeps it in 提醒列表 and cancellable as before.
 *
 * When the year arrives (an import on any instance, or a newer chinese-days)
 * `resume` moves each such item to its next time after now and makes it
 * active again. An item that stands for one firing (the daily practice
 * schedules its own next push) carries `once` in its rule and goes back to
 * being a one-off item.
 */
const onceSchema = z.object({ once: z.literal(true).optional() });

export function missingYearOf(lastError: string | null): number | null {
  if (!lastError?.startsWith(MISSING_DATA_PREFIX)) return null;
  const year = Number(lastError.slice(MISSING_DATA_PREFIX.length));
  return Number.isInteger(year) ? year : null;
}

/** Puts an item of any kind in the waiting state, inside the caller's transaction. */
export async function waitForWorkingDays(
  tx: Tx,
  input: {
    orgId: string;
    kind: string;
    payload: unknown;
    /** When it fires once the data is there. */
    rule: Rule;
    timezone: string;
    year: number;
    /** One firing only: after resuming it is a one-off item again. */
    once?: boolean;
    createdBy?: string;
    /** The number people type for it, when its kind numbers its items. */
    seq?: number;
    /** Placeholder due time (shown nowhere; the item is not active). */
    dueAt: Date;
  },
): Promise<{ id: string }> {
  const id = newId();
  await tx.scheduledItem.create({
    data: {
      id,
      orgId: input.orgId,
      kind: input.kind,
      payload: JSON.stringify(input.payload ?? null),
      recurrence: JSON.stringify(input.once ? { ...input.rule, once: true } : input.rule),
      timezone: input.timezone,
      dueAt: input.dueAt,
      status: 'stalled',
      lastError: new CalendarDataMissing(input.year).message,
      createdBy: input.createdBy ?? null,
      seq: input.seq ?? null,
    },
  });
  return { id };
}

export interface Resumed {
  orgId: string;
  kind: string;
  id: string;
  dueAt: Date;
}

/** Resumes every waiting item whose year the calendar now covers. */
export async function resumeWaiting(deps: { db: Db; clock: Clock; workingDays: WorkingDays }): Promise<Resumed[]> {
  const { db, clock, workingDays } = deps;
  const rows = await db.scheduledItem.findMany({
    where: { status: 'stalled', lastError: { startsWith: MISSING_DATA_PREFIX } },
    orderBy: { id: 'asc' },
  });
  const now = clock.now();
  const resumed: Resumed[] = [];
  for (const row of rows) {
    const year = missingYearOf(row.lastError);
    if (year === null || !workingDays.covers(year) || !row.recurrence) continue;
    const raw = JSON.parse(row.recurrence) as unknown;
    const rule = ruleSchema.safeParse(raw);
    if (!rule.success) continue;
    const once = onceSchema.safeParse(raw).data?.once === true;
    const after = row.dueAt > now ? row.dueAt : now;
    let data;
    try {
      const at = nextOccurrence(rule.data, after, row.timezone, workingDays);
      data = at
        ? { status: 'active', dueAt: at, lastError: null, ...(once ? { recurrence: null } : {}) }
        : { status: 'done', lastError: null };
    } catch (err) {
      if (!(err instanceof CalendarDataMissing)) throw err;
      // The next time needs a later year still missing: wait for that one.
      data = { lastError: err.message };
    }
    // Conditional on what we read: another instance resuming it too updates nothing.
    const { count } = await db.scheduledItem.updateMany({
      where: { id: row.id, status: 'stalled', lastError: row.lastError },
      data,
    });
    if (count === 1 && 'dueAt' in data)
      resumed.push({ orgId: row.orgId, kind: row.kind, id: row.id, dueAt: data.dueAt });
  }
  return resumed;
}
