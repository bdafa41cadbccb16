import { z } from 'zod';
import type { MessageKey, MessageParams } from '../../bot/messages.ts';
import type { HolidayDay } from './working-days.ts';

/**
 * Reads a year of holidays from the State Council notice
 * (国务院办公厅关于20XX年部分节假日安排的通知) as it is published, or from a
 * holiday-cn JSON file. The notice is read by its structure, not one year's
 * wording: numbered items "一、名称：…", each made of sentences; a sentence
 * that starts with a date either gives days off (a date or a range, "放假")
 * or extra working days (a list of dates, "上班"); any other sentence
 * (advice such as "鼓励…安排职工在除夕休息") is not data. Weekdays, when
 * written (周X or 星期X), and day counts ("共8天", "放假1天") are checked
 * against the dates, so a misprint or a notice of another year is caught.
 *
 * Every problem is a HolidayImportError naming the item, and nothing is
 * returned: an import is all or nothing.
 */
export class HolidayImportError extends Error {
  constructor(
    readonly key: MessageKey,
    readonly params: MessageParams = {},
  ) {
    super(`${key} ${JSON.stringify(params)}`);
    this.name = 'HolidayImportError';
  }
}

export interface ParsedYear {
  year: number;
  /** Days off and extra working days of `year`, sorted by date. */
  days: HolidayDay[];
}

const NUMERALS = '一二三四五六七八九十';
const WEEKDAY_ZH: Record<string, number> = { 一: 1, 二: 2, 三: 3, 四: 4, 五: 5, 六: 6, 日: 7, 天: 7 };
const WEEKDAY_NAME = ['', '周一', '周二', '周三', '周四', '周五', '周六', '周日'];

function isoWeekday(y: number, m: number, d: number): number {
  return new Date(Date.UTC(y, m - 1, d)).getUTCDay() || 7;
}

function daysInMonth(y: number, m: number): number {
  return new Date(Date.UTC(y, m, 0)).getUTCDate();
}

const iso = (y: number, m: number, d: number) => `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;

/** "2月14日" as written in the notice, for messages. */
const written = (d: { y?: number; m: number; d: number; explicitYear?: boolean }) =>
  `${d.y && d.explicitYear !== false ? `${d.y}年` : ''}${d.m}月${d.d}日`;

interface DateToken {
  y: number;
  m: number;
  d: number;
  /** Whether the year was written. */
  explicitYear: boolean;
  /** What the parentheses say about the weekday, if anything. */
  weekday?: number;
  weekdayText?: string;
  end: number;
}

const DATE_AT = /^(?:(\d{4})年)?(?:(\d{1,2})月)?(\d{1,2})日(?:\(([^)]*)\))?/;

interface Item {
  label: string;
  name: string;
  body: string;
}

/** `第二项（春节）` in messages. */
function labelOf(index: string, name: string): string {
  return `第${index}项（${name}）`;
}

function parseDateAt(
  text: string,
  context: { year: number; month?: number; item: string },
  requireMonth: boolean,
): DateToken | null {
  const m = DATE_AT.exec(text);
  if (!m) return null;
  if (!m[2] && (requireMonth || context.month === undefined)) return null;
  const y = m[1] ? Number(m[1]) : context.year;
  const month = m[2] ? Number(m[2]) : context.month!;
  const day = Number(m[3]);
  const asWritten = { y: m[1] ? y : undefined, m: month, d: day };
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(y, month)) {
    throw new HolidayImportError('holidays.notice.bad_date', { item: context.item, date: written(asWritten) });
  }
  const token: DateToken = { y, m: month, d: day, explicitYear: Boolean(m[1]), end: m[0].length };
  const wd = m[4] ? /(?:周|星期)([一二三四五六日天])/.exec(m[4]) : null;
  if (wd) {
    token.weekday = WEEKDAY_ZH[wd[1]!];
    token.weekdayText = wd[0];
  }
  return token;
}

function checkWeekday(t: DateToken, item: string): void {
  if (t.weekday === undefined) return;
  const actual = isoWeekday(t.y, t.m, t.d);
  if (actual !== t.weekday) {
    throw new HolidayImportError('holidays.notice.weekday', {
      item,
      date: written({ m: t.m, d: t.d }),
      written: t.weekdayText!,
      actual: WEEKDAY_NAME[actual]!,
      year: t.y,
    });
  }
}

/** The notice's items: "一、元旦：…" up to the next item. */
function splitItems(text: string): Item[] {
  const re = new RegExp(`(?:^|。|:)([${NUMERALS}]+)、([^:。]{1,30}):`, 'g');
  const starts: { index: number; bodyStart: number; label: string; name: string }[] = [];
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const name = m[2]!;
    starts.push({
      index: m.index,
      bodyStart: m.index + m[0].length,
      label: labelOf(m[1]!, name),
      name,
    });
    // The colon may start the next item's prefix; step back onto it.
    re.lastIndex = m.index + m[0].length - 1;
  }
  return starts.map((s, i) => ({
    label: s.label,
    name: s.name,
    body: text.slice(s.bodyStart, i + 1 < starts.length ? starts[i + 1]!.index + 1 : text.length),
  }));
}

function yearsNamed(text: string): number[] {
  const found = new Set<number>();
  for (const re of [/(\d{4})年部分节假日安排/g, /现将(\d{4})年/g]) {
    for (let m = re.exec(text); m; m = re.exec(text)) found.add(Number(m[1]));
  }
  return [...found];
}

function normalise(text: string): string {
  // NFKC turns full-width parentheses, colons, commas and digits into ASCII; spacing means nothing here.
  return text.normalize('NFKC').replace(/\s+/g, '').replace(/[;；]/g, '。').replace(/[,，]/g, ',');
}

/**
 * A pasted notice → the year's days off and extra working days.
 * `expectedYear`: the year the secretary named (`节假日 导入 2027 …`), if any.
 */
export function parseNotice(raw: string, expectedYear?: number): ParsedYear {
  const text = normalise(raw);
  const named = yearsNamed(text);
  if (named.length > 1) {
    throw new HolidayImportError('holidays.notice.years_conflict', { years: named.sort().join('、') });
  }
  const year = named[0] ?? expectedYear;
  if (year === undefined) throw new HolidayImportError('holidays.notice.no_year');
  if (expectedYear !== undefined && expectedYear !== year) {
    throw new HolidayImportError('holidays.notice.other_year', { named: expectedYear, notice: year });
  }
  const items = splitItems(text);
  if (items.length === 0) throw new HolidayImportError('holidays.notice.no_items');

  const days = new Map<string, HolidayDay & { item: string }>();
  const put = (date: string, off: boolean, name: string, item: string) => {
    const before = days.get(date);
    if (before) {
      throw new HolidayImportError('holidays.notice.twice', { item, date, other: before.item });
    }
    days.set(date, { date, off, name, item });
  };

  for (const item of items) {
    let offCount = 0;
    const sentences = item.body.split('。').filter(Boolean);
    for (const sentence of sentences) {
      const ctx = { year, item: item.label };
      const first = parseDateAt(sentence, ctx, true);
      // Not data: advice, duty arrangements, the closing paragraph.
      if (!first) continue;
      checkWeekday(first, item.label);
      let rest = sentence.slice(first.end);
      if (rest.startsWith('至')) {
        const second = parseDateAt(rest.slice(1), { ...ctx, year: first.y, month: first.m }, false);
        if (!second) {
          throw new HolidayImportError('holidays.notice.unreadable', { item: item.label, sentence });
        }
        // "12月31日至1月2日" without years runs into the next year.
        if (!second.explicitYear && second.m < first.m) second.y = first.y + 1;
        checkWeekday(second, item.label);
        rest = rest.slice(1 + second.end);
        const from = Date.UTC(first.y, first.m - 1, first.d);
        const to = Date.UTC(second.y, second.m - 1, second.d);
        if (to < from) {
          throw new HolidayImportError('holidays.notice.backwards', {
            item: item.label,
            from: written(first),
            to: written(second),
          });
        }
        if (!rest.startsWith('放假')) {
          throw new HolidayImportError('holidays.notice.unreadable', { item: item.label, sentence });
        }
        const n = (to - from) / 86_400_000 + 1;
        checkCount(rest, n, item.label);
        for (let i = 0; i < n; i++) {
          const d = new Date(from + i * 86_400_000);
          put(iso(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()), true, item.name, item.label);
        }
        offCount += n;
        continue;
      }
      if (rest.startsWith('放假')) {
        checkCount(rest, 1, item.label);
        put(iso(first.y, first.m, first.d), true, item.name, item.label);
        offCount += 1;
        continue;
      }
      // A list of extra working days: "1月26日(周日)、2月8日(周六)上班".
      const list = [first];
      while (rest.startsWith('、')) {
        const next = parseDateAt(rest.slice(1), { ...ctx, month: list[list.length - 1]!.m }, false);
        if (!next) break;
        checkWeekday(next, item.label);
        list.push(next);
        rest = rest.slice(1 + next.end);
      }
      if (!rest.startsWith('上班')) {
        throw new HolidayImportError('holidays.notice.unreadable', { item: item.label, sentence });
      }
      for (const w of list) {
        const wd = isoWeekday(w.y, w.m, w.d);
        if (wd < 6) {
          throw new HolidayImportError('holidays.notice.workday_not_weekend', {
            item: item.label,
            date: written(w),
            weekday: WEEKDAY_NAME[wd]!,
          });
        }
        put(iso(w.y, w.m, w.d), false, item.name, item.label);
      }
    }
    if (offCount === 0) throw new HolidayImportError('holidays.notice.item_without_days', { item: item.label });
  }
  return { year, days: inYear(year, [...days.values()], (d) => days.get(d)!.item) };
}

function checkCount(rest: string, n: number, item: string): void {
  const m = /共(\d+)天/.exec(rest) ?? /放假(\d+)天/.exec(rest);
  if (m && Number(m[1]) !== n) {
    throw new HolidayImportError('holidays.notice.count', { item, written: Number(m[1]), counted: n });
  }
}

/**
 * Days of the year itself. A New Year range may start in the last days of
 * the year before ("2022年12月31日至2023年1月2日"): those belong to that
 * year's calendar and are left out here; any other date outside the year is
 * a mistake.
 */
function inYear(year: number, all: HolidayDay[], itemOf: (date: string) => string): HolidayDay[] {
  const out: HolidayDay[] = [];
  for (const d of all) {
    const y = Number(d.date.slice(0, 4));
    if (y === year) out.push({ date: d.date, off: d.off, name: d.name });
    else if (!((y === year - 1 && d.date.slice(5, 7) === '12') || (y === year + 1 && d.date.slice(5, 7) === '01'))) {
      throw new HolidayImportError('holidays.notice.outside_year', { item: itemOf(d.date), date: d.date, year });
    }
  }
  return out.sort((a, b) => a.date.localeCompare(b.date));
}

/** The holiday-cn format (github.com/NateScarlet/holiday-cn). */
const holidayCnSchema = z.object({
  year: z.number().int(),
  days: z.array(z.object({ name: z.string().min(1), date: z.string(), isOffDay: z.boolean() })).min(1),
});

export function parseHolidayCn(raw: string, expectedYear?: number): ParsedYear {
  let json: unknown;
  try {
    json = JSON.parse(raw.replace(/^\uFEFF/, ''));
  } catch {
    throw new HolidayImportError('holidays.json.not_json');
  }
  const parsed = holidayCnSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new HolidayImportError('holidays.json.shape', { path: issue.path.join('.') || '(根)' });
  }
  const { year } = parsed.data;
  if (expectedYear !== undefined && expectedYear !== year) {
    throw new HolidayImportError('holidays.notice.other_year', { named: expectedYear, notice: year });
  }
  const seen = new Map<string, number>();
  const days: HolidayDay[] = [];
  parsed.data.days.forEach((d, i) => {
    const item = `第${i + 1}条（${d.name} ${d.date}）`;
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(d.date);
    const [y, mo, da] = m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [0, 0, 0];
    if (!m || mo < 1 || mo > 12 || da < 1 || da > daysInMonth(y, mo)) {
      throw new HolidayImportError('holidays.json.bad_date', { item, date: d.date });
    }
    if (seen.has(d.date)) throw new HolidayImportError('holidays.json.twice', { item, date: d.date });
    seen.set(d.date, i);
    const wd = isoWeekday(y, mo, da);
    if (!d.isOffDay && wd < 6) {
      throw new HolidayImportError('holidays.notice.workday_not_weekend', {
        item,
        date: d.date,
        weekday: WEEKDAY_NAME[wd]!,
      });
    }
    days.push({ date: d.date, off: d.isOffDay, name: d.name });
  });
  return { year, days: inYear(year, days, (date) => `第${seen.get(date)! + 1}条（${date}）`) };
}

/** A pasted text or an attached file: JSON when it looks like JSON, the notice otherwise. */
export function parseHolidayInput(raw: string, expectedYear?: number): ParsedYear {
  return raw.trimStart().startsWith('{') ? parseHolidayCn(raw, expectedYear) : parseNotice(raw, expectedYear);
}
