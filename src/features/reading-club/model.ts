import { DateTime } from 'luxon';
import { z } from 'zod';
import type { MessageKey } from '../../bot/messages.ts';
import type { Db, Tx } from '../../lib/db.ts';
import { jsonColumn } from '../../lib/json-column.ts';
import type { WorkingDays } from '../calendar/working-days.ts';

/** The six formats of seed 002, with the words a secretary may type for each. */
export const FORMATS = ['meeting', 'visit', 'speech', 'debate', 'skills', 'quiz'] as const;
export type ClubFormat = (typeof FORMATS)[number];

export const FORMAT_KEYS: Record<ClubFormat, MessageKey> = {
  meeting: 'club.format.meeting',
  visit: 'club.format.visit',
  speech: 'club.format.speech',
  debate: 'club.format.debate',
  skills: 'club.format.skills',
  quiz: 'club.format.quiz',
};

const FORMAT_WORDS: Record<string, ClubFormat> = {
  常规会议: 'meeting',
  会议: 'meeting',
  meeting: 'meeting',
  户外学习参观: 'visit',
  参观学习: 'visit',
  参观: 'visit',
  visit: 'visit',
  演讲比赛: 'speech',
  演讲: 'speech',
  speech: 'speech',
  辩论赛: 'debate',
  辩论: 'debate',
  debate: 'debate',
  技能竞赛: 'skills',
  技能: 'skills',
  skills: 'skills',
  知识抢答赛: 'quiz',
  抢答赛: 'quiz',
  抢答: 'quiz',
  quiz: 'quiz',
};

export function formatOf(word: string): ClubFormat | undefined {
  return FORMAT_WORDS[word.trim().normalize('NFKC').toLowerCase()];
}

/** The four parts of a session (seed 002). */
export const PARTS = ['theory', 'expert', 'sharing', 'leader'] as const;
export type ClubPart = (typeof PARTS)[number];
export const PART_KEYS: Record<ClubPart, MessageKey> = {
  theory: 'club.part.theory',
  expert: 'club.part.expert',
  sharing: 'club.part.sharing',
  leader: 'club.part.leader',
};
const PART_WORDS: Record<string, ClubPart> = {
  理论学习: 'theory',
  理论: 'theory',
  theory: 'theory',
  专家辅导: 'expert',
  专题辅导: 'expert',
  专家: 'expert',
  expert: 'expert',
  心得分享: 'sharing',
  分享: 'sharing',
  sharing: 'sharing',
  领导讲话: 'leader',
  讲话: 'leader',
  leader: 'leader',
};
/** Parts from "理论学习、心得分享" (any of 、,，/ as separators); unknown words are returned apart. */
export function partsOf(text: string): { parts: ClubPart[]; unknown: string[] } {
  const parts: ClubPart[] = [];
  const unknown: string[] = [];
  for (const w of text
    .normalize('NFKC')
    .split(/[、,，/\s]+/)
    .filter(Boolean)) {
    const p = PART_WORDS[w.toLowerCase()];
    if (!p) unknown.push(w);
    else if (!parts.includes(p)) parts.push(p);
  }
  return { parts, unknown };
}

export const partsColumn = jsonColumn(z.array(z.enum(PARTS)), 'ClubSession.parts');

/** When the group is reminded before a session: working days (at 09:00) or hours before the start. */
export const reminderOffsetSchema = z.object({ n: z.number().int().positive(), unit: z.enum(['workday', 'hour']) });
export type ReminderOffset = z.infer<typeof reminderOffsetSchema>;
export const DEFAULT_REMINDERS: ReminderOffset[] = [
  { n: 7, unit: 'workday' },
  { n: 1, unit: 'workday' },
  { n: 1, unit: 'hour' },
];
const remindersColumn = jsonColumn(z.array(reminderOffsetSchema), 'ClubSettings.reminders');
const excludedColumn = jsonColumn(z.array(z.string()), 'ClubSettings.excludedUnits');

export interface ClubSettings {
  reminders: ReminderOffset[];
  checkinBeforeMin: number;
  checkinAfterMin: number;
  archiveDays: number;
  reviewDays: number;
  excludedUnits: string[];
}

export const DEFAULT_SETTINGS: ClubSettings = {
  reminders: DEFAULT_REMINDERS,
  checkinBeforeMin: 30,
  checkinAfterMin: 120,
  archiveDays: 14,
  reviewDays: 10,
  excludedUnits: [],
};

export async function loadSettings(db: Db | Tx, orgId: string): Promise<ClubSettings> {
  const row = await db.clubSettings.findUnique({ where: { orgId } });
  if (!row) return { ...DEFAULT_SETTINGS };
  const reminders = remindersColumn.parse(row.reminders);
  return {
    reminders: reminders.length ? reminders : DEFAULT_REMINDERS,
    checkinBeforeMin: row.checkinBeforeMin,
    checkinAfterMin: row.checkinAfterMin,
    archiveDays: row.archiveDays,
    reviewDays: row.reviewDays,
    excludedUnits: excludedColumn.parse(row.excludedUnits),
  };
}

export async function saveSettings(db: Db | Tx, orgId: string, s: ClubSettings): Promise<void> {
  const data = {
    reminders: JSON.stringify(s.reminders),
    checkinBeforeMin: s.checkinBeforeMin,
    checkinAfterMin: s.checkinAfterMin,
    archiveDays: s.archiveDays,
    reviewDays: s.reviewDays,
    excludedUnits: JSON.stringify(s.excludedUnits),
  };
  await db.clubSettings.upsert({ where: { orgId }, create: { orgId, ...data }, update: data });
}

/** "7天,1天,1小时" (天 counts working days) → offsets; null when a part is not understood. */
export function parseReminderOffsets(text: string): ReminderOffset[] | null {
  const out: ReminderOffset[] = [];
  for (const part of text
    .normalize('NFKC')
    .split(/[、,，\s]+/)
    .filter(Boolean)) {
    const m = /^(\d{1,2})(天|个工作日|工作日|d|day|days|小时|个小时|h|hour|hours)$/i.exec(part);
    if (!m) return null;
    const n = Number(m[1]);
    if (n < 1) return null;
    out.push({ n, unit: /^(小时|个小时|h|hour|hours)$/i.test(m[2]!) ? 'hour' : 'workday' });
  }
  return out.length ? out : null;
}

export function describeOffsets(list: ReminderOffset[]): string {
  return list.map((o) => (o.unit === 'hour' ? `${o.n}小时` : `${o.n}个工作日`)).join('、');
}

/** The time of day a working-day reminder goes out. */
export const REMINDER_HOUR = 9;

/**
 * When a reminder fires: `n` working days before the session's local date at
 * 09:00 (a holiday in the way pushes it earlier), or `n` hours before the start.
 */
export function reminderTime(
  startsAt: Date,
  tz: string,
  o: ReminderOffset,
  workingDays: WorkingDays,
  /** Count Monday to Friday for a year without holiday data instead of throwing (an estimate, checked again when it fires). */
  estimate = false,
): Date {
  if (o.unit === 'hour') return new Date(startsAt.getTime() - o.n * 3_600_000);
  let day = DateTime.fromJSDate(startsAt, { zone: tz }).startOf('day');
  let left = o.n;
  while (left > 0) {
    day = day.minus({ days: 1 });
    if (estimate ? isWorkdayOr(workingDays, day) : workingDays.isWorkday(day.toISODate()!)) left--;
  }
  return day.set({ hour: REMINDER_HOUR }).toJSDate();
}

/** A working day per the calendar; Monday to Friday for a year it has no data for yet. */
function isWorkdayOr(workingDays: WorkingDays, day: DateTime): boolean {
  try {
    return workingDays.isWorkday(day.toISODate()!);
  } catch {
    return day.weekday <= 5;
  }
}

/** The next working day after `at`, at 09:00 local: when an overdue review is chased again. */
export function nextWorkingMorning(at: Date, tz: string, workingDays: WorkingDays): Date {
  let day = DateTime.fromJSDate(at, { zone: tz }).startOf('day');
  for (let i = 0; i < 40; i++) {
    day = day.plus({ days: 1 });
    if (isWorkdayOr(workingDays, day)) break;
  }
  return day.set({ hour: REMINDER_HOUR }).toJSDate();
}

const WEEKDAY = ['', '周一', '周二', '周三', '周四', '周五', '周六', '周日'];

/** "2027-01-15 周五 14:30" in the organisation's time zone. */
export function localTime(at: Date, tz: string): string {
  const d = DateTime.fromJSDate(at, { zone: tz });
  return `${d.toFormat('yyyy-MM-dd')} ${WEEKDAY[d.weekday]} ${d.toFormat('HH:mm')}`;
}

export function localDate(at: Date, tz: string): string {
  return DateTime.fromJSDate(at, { zone: tz }).toFormat('yyyy-MM-dd');
}
