import { DateTime } from 'luxon';
import { z } from 'zod';
import { isUniqueViolation, type Tx } from '../../lib/db.ts';

export const REMINDER_KIND = 'reminder';

/** What a reminder item carries (ScheduledItem.payload). */
export const reminderPayloadSchema = z.object({
  v: z.literal(1),
  text: z.string(),
  platform: z.string(),
  targets: z.array(z.object({ kind: z.enum(['chat', 'user']), id: z.string() })).min(1),
  mentions: z.array(z.object({ id: z.string(), name: z.string() })).default([]),
  /** Names of the private recipients, for the list. */
  targetNames: z.array(z.string()).default([]),
  /** The fixed activity this reminder is (fixed-activities.ts), when switched on as one. */
  activity: z.string().optional(),
});
export type ReminderPayload = z.infer<typeof reminderPayloadSchema>;

const WEEKDAY = ['', '周一', '周二', '周三', '周四', '周五', '周六', '周日'];

export function formatLocal(at: Date, tz: string): string {
  const d = DateTime.fromJSDate(at, { zone: tz });
  return `${d.toFormat('yyyy-MM-dd')} ${WEEKDAY[d.weekday]} ${d.toFormat('HH:mm')}`;
}

/**
 * The next reminder number (编号) of an organisation, inside the creating
 * transaction. Reminders are never deleted (a cancelled one keeps its row and
 * its number), so the highest number ever given plus one is never a reused
 * number; two creations racing for it collide on the unique key and retry.
 */
export async function nextReminderSeq(tx: Tx, orgId: string): Promise<number> {
  const last = await tx.scheduledItem.aggregate({ where: { orgId, kind: REMINDER_KIND }, _max: { seq: true } });
  return (last._max.seq ?? 0) + 1;
}

/** Runs `work` (one transaction taking a number) again when it lost a race for the number. */
export async function retryOnUniqueViolation<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (attempt < 3 && isUniqueViolation(err)) continue;
      throw err;
    }
  }
}
