import { DateTime } from 'luxon';
import { cnNumber, NUM } from './cn-numbers.ts';
import { readMoment } from './one-off.ts';
import type { DaySel, Rule } from './recurrence.ts';

/**
 * Natural-language schedules in Chinese and English: "每月最后一个工作日 17:00",
 * "周一 09:00", "every monday 9am", "明天下午3点". The phrase must come first;
 * what follows is the reminder text.
 *
 * One-off moments are read by one-off.ts, on the organisation's wall clock
 * (Chinese relative days there, absolute dates and English through
 * chrono-node). Recurrences and working days are parsed here: chrono has no
 * notion of repetition or of the Chinese working-day calendar (see
 * docs/decisions/scheduling.md and docs/decisions/relative-dates.md).
 */
export class TimeParseError extends Error {
  constructor(
    readonly key:
      | 'calendar.parse.unknown'
      | 'calendar.parse.bad_weekday'
      | 'calendar.parse.bad_time'
      | 'calendar.parse.bad_day'
      | 'calendar.parse.past'
      | 'calendar.parse.no_text',
    readonly params: Record<string, string> = {},
  ) {
    super(key);
    this.name = 'TimeParseError';
  }
}

export type ParsedSchedule = { kind: 'rule'; rule: Rule; text: string } | { kind: 'once'; at: Date; text: string };

export const DEFAULT_TIME = '09:00';

// ---- Weekdays and months ------------------------------------------------------

const ZH_WEEKDAY: Record<string, number> = { 一: 1, 二: 2, 三: 3, 四: 4, 五: 5, 六: 6, 日: 7, 天: 7, 七: 7 };
const EN_WEEKDAY: Record<string, number> = {
  mon: 1,
  monday: 1,
  tue: 2,
  tues: 2,
  tuesday: 2,
  wed: 3,
  wednesday: 3,
  thu: 4,
  thur: 4,
  thurs: 4,
  thursday: 4,
  fri: 5,
  friday: 5,
  sat: 6,
  saturday: 6,
  sun: 7,
  sunday: 7,
};
const EN_MONTH: Record<string, number> = {
  jan: 1,
  january: 1,
  feb: 2,
  february: 2,
  mar: 3,
  march: 3,
  apr: 4,
  april: 4,
  may: 5,
  jun: 6,
  june: 6,
  jul: 7,
  july: 7,
  aug: 8,
  august: 8,
  sep: 9,
  sept: 9,
  september: 9,
  oct: 10,
  october: 10,
  nov: 11,
  november: 11,
  dec: 12,
  december: 12,
};
const EN_ORDINAL: Record<string, number> = { first: 1, second: 2, third: 3, fourth: 4, fifth: 5, last: -1 };

/** Reads a schedule at the front of `s`; returns what it consumed. */
type WithoutTime<T> = T extends unknown ? Omit<T, 'time'> : never;
interface Head {
  rule: WithoutTime<Rule>;
  rest: string;
}

function zhDaySel(s: string): { sel: DaySel; rest: string; last: boolean } | null {
  let m: RegExpExecArray | null;
  if ((m = new RegExp(`^(${NUM})\\s*(?:号|日)`).exec(s))) {
    const day = cnNumber(m[1]!);
    if (!(day >= 1 && day <= 31)) throw new TimeParseError('calendar.parse.bad_day', { day: m[1]! });
    return { sel: { type: 'day', day }, rest: s.slice(m[0].length), last: false };
  }
  if ((m = /^(?:的)?(?:最后一天|月底|月末|季末|年底)/.exec(s))) {
    return { sel: { type: 'lastDay' }, rest: s.slice(m[0].length), last: true };
  }
  if ((m = new RegExp(`^(?:的)?(?:(第(${NUM})个|首个|最后一个|倒数第一个))工作日`).exec(s))) {
    const n = m[2] ? cnNumber(m[2]) : m[1] === '首个' ? 1 : -1;
    if (!(n === -1 || (n >= 1 && n <= 23))) throw new TimeParseError('calendar.parse.bad_day', { day: m[0] });
    return { sel: { type: 'workday', n }, rest: s.slice(m[0].length), last: n === -1 };
  }
  if ((m = new RegExp(`^(?:的)?(?:第(${NUM})个|最后一个)(?:周|星期|礼拜)(\\S)`).exec(s))) {
    const weekday = ZH_WEEKDAY[m[2]!];
    if (!weekday) throw new TimeParseError('calendar.parse.bad_weekday', { word: `周${m[2]!}` });
    const n = m[1] ? cnNumber(m[1]) : -1;
    if (!(n === -1 || (n >= 1 && n <= 5))) throw new TimeParseError('calendar.parse.bad_day', { day: m[0] });
    return { sel: { type: 'nthWeekday', n, weekday }, rest: s.slice(m[0].length), last: n === -1 };
  }
  return null;
}

function zhWeekdays(s: string): { days: number[]; rest: string } | null {
  // Digits count as weekdays only right after 周/星期 ("周1"), never loose ("二 15:00" is not Tue+Mon).
  const one = '(?:(?:周|星期|礼拜)([一二三四五六日天七1-7])|([一二三四五六日天七]))';
  let m = new RegExp(`^([一二三四五六日天七1-7])\\s*(?:至|到|-|~|～)\\s*${one}`).exec(s);
  if (m) {
    const a = ZH_WEEKDAY[m[1]!] ?? Number(m[1]);
    const bRaw = m[2] ?? m[3]!;
    const b = ZH_WEEKDAY[bRaw] ?? Number(bRaw);
    const days: number[] = [];
    for (let d = a; ; d = (d % 7) + 1) {
      days.push(d);
      if (d === b || days.length > 7) break;
    }
    return { days, rest: s.slice(m[0].length) };
  }
  m = new RegExp(`^[一二三四五六日天七1-7](?:\\s*(?:、|,|，|和|及|与|/)?\\s*${one})*`).exec(s);
  if (!m) return null;
  const days = [...m[0].replace(/周|星期|礼拜/g, '').matchAll(/[一二三四五六日天七1-7]/g)].map(
    (x) => ZH_WEEKDAY[x[0]] ?? Number(x[0]),
  );
  return { days: [...new Set(days)], rest: s.slice(m[0].length) };
}

function zhHead(s: string): Head | null {
  let m: RegExpExecArray | null;
  if ((m = /^(?:每天|每日|天天)/.exec(s))) return { rule: { freq: 'daily' }, rest: s.slice(m[0].length) };
  if ((m = /^(?:每个工作日|每一个工作日|每工作日|每逢工作日|工作日每天|工作日)/.exec(s)))
    return { rule: { freq: 'workdays' }, rest: s.slice(m[0].length) };
  if ((m = /^(?:每个?周末|周末)/.exec(s)))
    return { rule: { freq: 'weekly', weekdays: [6, 7] }, rest: s.slice(m[0].length) };
  if ((m = /^(?:每周|每星期|每个星期|每礼拜|每个礼拜|(?=[周星礼])(?:周|星期|礼拜))/.exec(s))) {
    const after = s.slice(m[0].length);
    const w = zhWeekdays(after);
    if (w) return { rule: { freq: 'weekly', weekdays: w.days }, rest: w.rest };
    if (m[0].startsWith('每')) {
      throw new TimeParseError('calendar.parse.bad_weekday', { word: `${m[0]}${after.slice(0, 1)}` });
    }
    return null;
  }
  if ((m = /^(?:元旦后|新年后|节后)(?:的)?第一个工作日/.exec(s))) {
    return { rule: { freq: 'yearly', month: 1, day: { type: 'workday', n: 1 } }, rest: s.slice(m[0].length) };
  }
  if ((m = /^(?:每个?月)(?:的)?/.exec(s))) {
    const d = zhDaySel(s.slice(m[0].length));
    if (!d) throw new TimeParseError('calendar.parse.unknown', { input: s.slice(0, 20) });
    return { rule: { freq: 'monthly', day: d.sel }, rest: d.rest };
  }
  if ((m = /^(?:每个?季度|每季)(?:的)?/.exec(s))) {
    let rest = s.slice(m[0].length);
    let month: number | undefined;
    const mm = /^(?:第([一二三123])个月|季初|季末)(?:的)?/.exec(rest);
    if (mm) {
      month = mm[1] ? cnNumber(mm[1]) : mm[0].startsWith('季初') ? 1 : 3;
      rest = rest.slice(mm[0].length);
    }
    const d = zhDaySel(rest);
    if (!d) throw new TimeParseError('calendar.parse.unknown', { input: s.slice(0, 20) });
    return { rule: { freq: 'quarterly', month: month ?? (d.last ? 3 : 1), day: d.sel }, rest: d.rest };
  }
  if ((m = /^每年(?:的)?/.exec(s))) {
    const rest = s.slice(m[0].length);
    let y: RegExpExecArray | null;
    if ((y = /^(?:元旦后|新年后|元旦过后|新年过后)?(?:的)?第一个工作日/.exec(rest)))
      return { rule: { freq: 'yearly', month: 1, day: { type: 'workday', n: 1 } }, rest: rest.slice(y[0].length) };
    if ((y = /^(?:的)?最后一个工作日/.exec(rest)))
      return { rule: { freq: 'yearly', month: 12, day: { type: 'workday', n: -1 } }, rest: rest.slice(y[0].length) };
    if ((y = new RegExp(`^(${NUM})\\s*月(?:份)?(?:的)?`).exec(rest))) {
      const month = cnNumber(y[1]!);
      if (!(month >= 1 && month <= 12)) throw new TimeParseError('calendar.parse.bad_day', { day: y[0] });
      const d = zhDaySel(rest.slice(y[0].length));
      if (!d) throw new TimeParseError('calendar.parse.unknown', { input: s.slice(0, 20) });
      return { rule: { freq: 'yearly', month, day: d.sel }, rest: d.rest };
    }
    throw new TimeParseError('calendar.parse.unknown', { input: s.slice(0, 20) });
  }
  return null;
}

function enDaySel(s: string): { sel: DaySel; rest: string; last: boolean } | null {
  let m: RegExpExecArray | null;
  if ((m = /^(?:on\s+)?(?:the\s+)?(\d{1,2})(?:st|nd|rd|th)?\b/.exec(s))) {
    const day = Number(m[1]);
    if (!(day >= 1 && day <= 31)) throw new TimeParseError('calendar.parse.bad_day', { day: m[1]! });
    return { sel: { type: 'day', day }, rest: s.slice(m[0].length), last: false };
  }
  if ((m = /^(?:on\s+)?(?:the\s+)?last\s+day\b/.exec(s)))
    return { sel: { type: 'lastDay' }, rest: s.slice(m[0].length), last: true };
  if (
    (m =
      /^(?:on\s+)?(?:the\s+)?(first|second|third|fourth|fifth|last|\d)(?:st|nd|rd|th)?\s+(?:working\s+day|workday|business\s+day)\b/.exec(
        s,
      ))
  ) {
    const n = EN_ORDINAL[m[1]!] ?? Number(m[1]);
    return { sel: { type: 'workday', n }, rest: s.slice(m[0].length), last: n === -1 };
  }
  if ((m = /^(?:on\s+)?(?:the\s+)?(first|second|third|fourth|fifth|last)\s+([a-z]+)\b/.exec(s))) {
    const weekday = EN_WEEKDAY[m[2]!];
    if (!weekday) throw new TimeParseError('calendar.parse.bad_weekday', { word: m[2]! });
    const n = EN_ORDINAL[m[1]!]!;
    return { sel: { type: 'nthWeekday', n, weekday }, rest: s.slice(m[0].length), last: n === -1 };
  }
  return null;
}

function enHead(s: string): Head | null {
  let m: RegExpExecArray | null;
  if ((m = /^(?:every\s+day|daily|each\s+day)\b/.exec(s)))
    return { rule: { freq: 'daily' }, rest: s.slice(m[0].length) };
  if ((m = /^(?:every\s+(?:working\s+day|workday|business\s+day)|on\s+(?:working\s+days|workdays)|workdays)\b/.exec(s)))
    return { rule: { freq: 'workdays' }, rest: s.slice(m[0].length) };
  if ((m = /^every\s+weekday\b/.exec(s)))
    return { rule: { freq: 'weekly', weekdays: [1, 2, 3, 4, 5] }, rest: s.slice(m[0].length) };
  if ((m = /^(?:on\s+the\s+)?first\s+working\s+day\s+(?:after|of\s+the)\s+new\s+year\b/.exec(s)))
    return { rule: { freq: 'yearly', month: 1, day: { type: 'workday', n: 1 } }, rest: s.slice(m[0].length) };
  // "on the first monday of every month"
  if (
    (m = /^(?:on\s+)?(?:the\s+)?(first|second|third|fourth|fifth|last)\s+([a-z]+)\s+of\s+(?:every|each)\s+month\b/.exec(
      s,
    ))
  ) {
    const weekday = EN_WEEKDAY[m[2]!];
    if (!weekday) throw new TimeParseError('calendar.parse.bad_weekday', { word: m[2]! });
    return {
      rule: { freq: 'monthly', day: { type: 'nthWeekday', n: EN_ORDINAL[m[1]!]!, weekday } },
      rest: s.slice(m[0].length),
    };
  }
  if ((m = /^(?:every|each|on)\s+([a-z]+(?:\s*(?:,|and|&)\s*[a-z]+)*)/.exec(s))) {
    const words = m[1]!.split(/\s*(?:,|\band\b|&)\s*/).filter(Boolean);
    const head = words[0]!;
    if (!/^(?:month|quarter|year|day|working|workday|weekday|business)/.test(head)) {
      const days = words.map((w) => EN_WEEKDAY[w.replace(/s$/, '')] ?? EN_WEEKDAY[w]);
      const bad = words.find((_, i) => days[i] === undefined);
      if (bad !== undefined) {
        if (/day$/.test(bad) || m[0].startsWith('every'))
          throw new TimeParseError('calendar.parse.bad_weekday', { word: bad });
        return null;
      }
      return { rule: { freq: 'weekly', weekdays: [...new Set(days as number[])] }, rest: s.slice(m[0].length) };
    }
  }
  if ((m = /^(?:every\s+month|monthly|each\s+month)\s*(?:on\s+)?/.exec(s))) {
    const d = enDaySel(s.slice(m[0].length));
    if (!d) throw new TimeParseError('calendar.parse.unknown', { input: s.slice(0, 30) });
    return { rule: { freq: 'monthly', day: d.sel }, rest: d.rest };
  }
  if ((m = /^(?:every\s+quarter|quarterly|each\s+quarter)\s*(?:on\s+)?/.exec(s))) {
    const d = enDaySel(s.slice(m[0].length));
    if (!d) throw new TimeParseError('calendar.parse.unknown', { input: s.slice(0, 30) });
    return { rule: { freq: 'quarterly', month: d.last ? 3 : 1, day: d.sel }, rest: d.rest };
  }
  if ((m = /^(?:every\s+year|yearly|annually|each\s+year)\s*(?:on\s+)?(?:the\s+)?/.exec(s))) {
    const rest = s.slice(m[0].length);
    let y: RegExpExecArray | null;
    if ((y = /^first\s+working\s+day(?:\s+(?:after|of\s+the)\s+new\s+year)?\b/.exec(rest)))
      return { rule: { freq: 'yearly', month: 1, day: { type: 'workday', n: 1 } }, rest: rest.slice(y[0].length) };
    if ((y = /^([a-z]+)\s+(\d{1,2})(?:st|nd|rd|th)?\b/.exec(rest)) && EN_MONTH[y[1]!]) {
      const day = Number(y[2]);
      if (!(day >= 1 && day <= 31)) throw new TimeParseError('calendar.parse.bad_day', { day: y[2]! });
      return {
        rule: { freq: 'yearly', month: EN_MONTH[y[1]!]!, day: { type: 'day', day } },
        rest: rest.slice(y[0].length),
      };
    }
    if ((y = /^(\d{1,2})-(\d{1,2})\b/.exec(rest))) {
      const month = Number(y[1]);
      const day = Number(y[2]);
      if (!(month >= 1 && month <= 12 && day >= 1 && day <= 31))
        throw new TimeParseError('calendar.parse.bad_day', { day: y[0] });
      return { rule: { freq: 'yearly', month, day: { type: 'day', day } }, rest: rest.slice(y[0].length) };
    }
    throw new TimeParseError('calendar.parse.unknown', { input: s.slice(0, 30) });
  }
  return null;
}

/** A time of day at the front of `s` (after a head); null when there is none. */
function timeOfDay(s: string): { time: string; rest: string } | null {
  const check = (h: number, min: number, raw: string) => {
    if (!(h >= 0 && h <= 23 && min >= 0 && min <= 59))
      throw new TimeParseError('calendar.parse.bad_time', { input: raw });
    return `${String(h).padStart(2, '0')}:${String(min).padStart(2, '0')}`;
  };
  const adjust = (period: string | undefined, h: number) => {
    if (!period) return h;
    if (/下午|晚上|傍晚|晚|pm/.test(period) && h < 12) return h + 12;
    if (/中午/.test(period) && h < 11) return h + 12;
    if (/凌晨|am/.test(period) && h === 12) return 0;
    return h;
  };
  let m = /^(?:at\s+)?(?:(上午|早上|早晨|中午|下午|晚上|傍晚|凌晨)\s*)?(\d{1,2})[:：](\d{2})(?:\s*(am|pm)\b)?/.exec(s);
  if (m) {
    const h = adjust(m[1] ?? m[4], Number(m[2]));
    return { time: check(h, Number(m[3]), m[0]), rest: s.slice(m[0].length) };
  }
  m = /^(?:at\s+)?(\d{1,2})\s*(am|pm)\b/.exec(s);
  if (m) return { time: check(adjust(m[2], Number(m[1])), 0, m[0]), rest: s.slice(m[0].length) };
  m = /^at\s+(\d{1,2})\b(?![:：])/.exec(s);
  if (m) return { time: check(Number(m[1]), 0, m[0]), rest: s.slice(m[0].length) };
  m = new RegExp(
    `^(?:(上午|早上|早晨|中午|下午|晚上|傍晚|凌晨)\\s*)?(${NUM})\\s*(?:点|时)(?:\\s*(半|一刻|三刻|(${NUM})\\s*分?))?`,
  ).exec(s);
  if (m) {
    const h = adjust(m[1], cnNumber(m[2]!));
    const min = m[3] === '半' ? 30 : m[3] === '一刻' ? 15 : m[3] === '三刻' ? 45 : m[4] ? cnNumber(m[4]) : 0;
    return { time: check(h, min, m[0]), rest: s.slice(m[0].length) };
  }
  return null;
}

function cleanText(rest: string): string {
  return rest.replace(/^[\s,，:：;；、。的]+/, '').trim();
}

/** A one-off moment at the front of normalised `s`, with what follows it; past moments included. */
function momentAtFront(s: string, now: Date, tz: string): { at: Date; rest: string } | null {
  // A bare time of day ("17:00 开会") means the next such time.
  const bare = timeOfDay(s);
  if (bare) {
    const [h, min] = bare.time.split(':').map(Number);
    let at = DateTime.fromJSDate(now, { zone: tz }).set({ hour: h, minute: min, second: 0, millisecond: 0 });
    if (at.toJSDate().getTime() <= now.getTime()) at = at.plus({ days: 1 });
    return { at: at.toJSDate(), rest: bare.rest };
  }
  const once = readMoment(s, now, tz, timeOfDay);
  if (!once) return null;
  // A separate time after a date ("3月5日 下午3点") is joined here.
  let { at, rest } = once;
  const tod = once.timed ? null : timeOfDay(rest.replace(/^\s+/, ''));
  if (tod) {
    const [h, min] = tod.time.split(':').map(Number);
    at = DateTime.fromJSDate(at, { zone: tz }).set({ hour: h, minute: min, second: 0, millisecond: 0 }).toJSDate();
    rest = tod.rest;
  }
  return { at, rest };
}

/**
 * A whole argument read as one moment, for any command that takes a date or
 * a deadline (`截止 明天 18:00`, `开始 下周一 9点`, `2026-03-05 09:00`,
 * `17:00`): the same words and the same organisation-time-zone reading as
 * reminders. Null when the text is not exactly one moment; a past moment is
 * returned as it is (the caller says whether that is wrong).
 */
export function parseMoment(input: string, now: Date, tz: string): Date | null {
  const s = input.trim().normalize('NFKC').toLowerCase();
  if (!s) return null;
  const once = momentAtFront(s, now, tz);
  return once && once.rest.trim() === '' ? once.at : null;
}

/**
 * Parses `input` ("<when> <text>") in time zone `tz` at `now`. Throws
 * TimeParseError with a catalogue key explaining what is wrong.
 */
export function parseSchedule(input: string, now: Date, tz: string): ParsedSchedule {
  const original = input.trim();
  const normalized = original.normalize('NFKC');
  // Keep the user's own characters for the reminder text when we can.
  const source = normalized.length === original.length ? original : normalized;
  const s = normalized.toLowerCase();
  const textFrom = (rest: string) => {
    const text = cleanText(source.slice(source.length - rest.length));
    if (!text) throw new TimeParseError('calendar.parse.no_text');
    return text;
  };

  const head = zhHead(s) ?? enHead(s);
  if (head) {
    const rest = head.rest.replace(/^\s*(?:的|,|，|:|：)?\s*/, '');
    const tod = timeOfDay(rest);
    const rule = { ...head.rule, time: tod?.time ?? DEFAULT_TIME } as Rule;
    return { kind: 'rule', rule, text: textFrom(tod ? tod.rest : rest) };
  }
  const once = momentAtFront(s, now, tz);
  if (once) {
    if (once.at.getTime() <= now.getTime()) {
      throw new TimeParseError('calendar.parse.past', {
        when: DateTime.fromJSDate(once.at, { zone: tz }).toFormat('yyyy-MM-dd HH:mm'),
      });
    }
    return { kind: 'once', at: once.at, text: textFrom(once.rest) };
  }
  throw new TimeParseError('calendar.parse.unknown', {
    input: original.split(/\s+/).slice(0, 2).join(' ').slice(0, 30),
  });
}
