// Only the two locales we read: the package root loads all of them (~12 MB more memory).
import * as chronoEn from 'chrono-node/en';
import * as chronoZhHans from 'chrono-node/zh/hans';
import { DateTime } from 'luxon';
import { cnNumber, NUM } from './cn-numbers.ts';

/**
 * One-off moments ("明天下午3点", "下周一 9:00", "本月底", "3天后 10:00",
 * "tomorrow 3pm", "3月5日 9:00"), always resolved on the organisation's wall
 * clock. chrono-node's Chinese parsers read the reference date with the
 * process's local getters (the server's zone, often UTC), which made 明天 at
 * 07:47 Beijing time mean today; so the Chinese relative words are resolved
 * here with luxon in the organisation's zone, and chrono is only given a
 * "floating" reference whose process-local wall clock equals the
 * organisation's, its result read back as wall-clock parts in that zone.
 * See docs/decisions/relative-dates.md.
 */
export interface Moment {
  at: Date;
  /** What follows the phrase (the reminder text). */
  rest: string;
  /** The phrase already read a time of day; the caller must not look for another. */
  timed: boolean;
}

/** Reads a time of day at the front of a string; injected so the one parser of times is shared. */
export type TimeOfDayReader = (s: string) => { time: string; rest: string } | null;

const WEEKDAY: Record<string, number> = { 一: 1, 二: 2, 三: 3, 四: 4, 五: 5, 六: 6, 日: 7, 天: 7, 七: 7 };
const WEEK = '(?:周|星期|礼拜)';

/** The hour a bare part of the day stands for ("明天下午 开会"). */
const PERIOD_HOUR: Record<string, number> = {
  上午: 9,
  早上: 8,
  早晨: 8,
  中午: 12,
  下午: 15,
  傍晚: 18,
  晚上: 20,
};
const PERIOD = '(?:上午|早上|早晨|中午|下午|傍晚|晚上|凌晨)';

interface DayPhrase {
  /** Start of the local day in the organisation's zone. */
  day: DateTime;
  /** A part of the day the phrase implied (今晚 → 晚上). */
  period?: string;
  rest: string;
}

/**
 * Chinese words for a day relative to today (in `today`'s zone). Bare 周五
 * and 周末 are not here: the recurrence parser reads them as "every".
 */
function zhDay(s: string, today: DateTime): DayPhrase | null {
  let m: RegExpExecArray | null;
  const at = (day: DateTime, len: number, period?: string): DayPhrase => ({
    day,
    rest: s.slice(len),
    ...(period ? { period } : {}),
  });
  if ((m = /^(大后天|后天|明天|明日|明早|明晚|今天|今日|今早|今晚|昨天|昨日|昨晚|前天)/.exec(s))) {
    const w = m[1]!;
    const offset = w.startsWith('大后')
      ? 3
      : w.startsWith('后')
        ? 2
        : w.startsWith('明')
          ? 1
          : w.startsWith('昨')
            ? -1
            : w.startsWith('前')
              ? -2
              : 0;
    const period = w.endsWith('晚') ? '晚上' : w.endsWith('早') ? '早上' : undefined;
    return at(today.plus({ days: offset }), m[0].length, period);
  }
  // 下周三, 下下周一, 本周五, 这周日, 下个星期二, 上周一 (past: refused by the caller)
  if ((m = new RegExp(`^(下下|下|本|这|上)(?:个)?${WEEK}([一二三四五六日天七1-7])`).exec(s))) {
    const weeks = { 下下: 2, 下: 1, 本: 0, 这: 0, 上: -1 }[m[1]!]!;
    const weekday = WEEKDAY[m[2]!] ?? Number(m[2]);
    return at(today.startOf('week').plus({ weeks, days: weekday - 1 }), m[0].length);
  }
  // 本周末 / 这周末 / 下周末: the Saturday of that week (today, when it is Sunday already)
  if ((m = new RegExp(`^(下下|下|本|这)(?:个)?${WEEK}末`).exec(s))) {
    const weeks = { 下下: 2, 下: 1, 本: 0, 这: 0 }[m[1]!]!;
    const saturday = today.startOf('week').plus({ weeks, days: 5 });
    return at(weeks === 0 && today > saturday ? today : saturday, m[0].length);
  }
  // 下周 (alone): Monday of next week
  if ((m = new RegExp(`^(下下|下)(?:个)?${WEEK}(?![一二三四五六日天七1-7末])`).exec(s))) {
    return at(today.startOf('week').plus({ weeks: m[1] === '下下' ? 2 : 1 }), m[0].length);
  }
  // 月底 / 本月底 / 下个月底 / 下月末 / 月初 / 下个月初 / 下个月5号 / 下个月
  if ((m = new RegExp(`^(?:(本|这个?|下个?|下下个?)月|月)(?:的)?(底|末|初|(${NUM})\\s*(?:号|日))?`).exec(s))) {
    const head = m[0];
    if (head === '月') return null;
    const which = /^下下/.test(head) ? 2 : /^下/.test(head) ? 1 : 0;
    const month = today.startOf('month').plus({ months: which });
    if (m[2] === '底' || m[2] === '末') return at(month.endOf('month').startOf('day'), head.length);
    if (m[3]) {
      const day = cnNumber(m[3]);
      if (!(day >= 1 && day <= month.daysInMonth!)) return null;
      return at(month.set({ day }), head.length);
    }
    // 下个月 alone, or 月初: the first day of that month
    if (m[2] === '初' || which > 0) return at(month, head.length);
    return null;
  }
  return null;
}

/** "N天后", "3周后", "两个月后", "2小时后", "in 2 hours": counted from now in the organisation's zone. */
function afterSpan(s: string, now: DateTime): { at: DateTime; rest: string; dayOnly: boolean } | null {
  let m = new RegExp(`^(${NUM}|半)\\s*(?:个)?\\s*(分钟|小时|钟头|天|日|周|星期|礼拜|月)(?:之|以)?后`).exec(s);
  if (m) {
    const n = m[1] === '半' ? 0.5 : cnNumber(m[1]!);
    const unit = m[2]!;
    if (unit === '分钟') return { at: now.plus({ minutes: n }), rest: s.slice(m[0].length), dayOnly: false };
    if (unit === '小时' || unit === '钟头')
      return { at: now.plus({ minutes: n * 60 }), rest: s.slice(m[0].length), dayOnly: false };
    if (!Number.isInteger(n)) return null;
    const span = unit === '月' ? { months: n } : unit === '天' || unit === '日' ? { days: n } : { weeks: n };
    return { at: now.plus(span), rest: s.slice(m[0].length), dayOnly: true };
  }
  m = /^in\s+(\d+)\s*(minutes?|mins?|hours?|hrs?|days?|weeks?)\b/.exec(s);
  if (m) {
    const n = Number(m[1]);
    const u = m[2]!;
    const span = u.startsWith('m')
      ? { minutes: n }
      : u.startsWith('h')
        ? { hours: n }
        : u.startsWith('w')
          ? { weeks: n }
          : { days: n };
    return { at: now.plus(span), rest: s.slice(m[0].length), dayOnly: /^[dw]/.test(u) };
  }
  return null;
}

function withTime(day: DateTime, time: string): DateTime {
  const [hour, minute] = time.split(':').map(Number);
  return day.set({ hour, minute, second: 0, millisecond: 0 });
}

/**
 * A one-off moment at the front of `s` (already NFKC-normalised and lower-cased),
 * resolved at `now` on the wall clock of `tz`; null when `s` does not start with one.
 * Past moments are returned as they are: the caller decides whether that is an error.
 */
export function readMoment(s: string, now: Date, tz: string, timeOfDay: TimeOfDayReader): Moment | null {
  const local = DateTime.fromJSDate(now, { zone: tz });

  const span = afterSpan(s, local);
  if (span) {
    // "3天后 10:00 交作业": a day count takes a time of day after it; a minute or hour count does not.
    const tod = span.dayOnly ? timeOfDay(span.rest.replace(/^\s+/, '')) : null;
    if (tod) return { at: withTime(span.at, tod.time).toJSDate(), rest: tod.rest, timed: true };
    return { at: span.at.set({ second: 0, millisecond: 0 }).toJSDate(), rest: span.rest, timed: !span.dayOnly };
  }

  const day = zhDay(s, local.startOf('day'));
  if (day) {
    const after = day.rest.replace(/^\s*(?:的)?\s*/, '');
    // 今晚8点 is 20:00: the implied part of the day goes in front of the time.
    const tod = timeOfDay(day.period && !new RegExp(`^${PERIOD}`).test(after) ? `${day.period}${after}` : after);
    if (tod) return { at: withTime(day.day, tod.time).toJSDate(), rest: tod.rest, timed: true };
    const p = new RegExp(`^${PERIOD}`).exec(after);
    const period = p?.[0] ?? day.period;
    const hour = (period ? PERIOD_HOUR[period] : undefined) ?? 9;
    return {
      at: day.day.set({ hour }).toJSDate(),
      rest: p ? after.slice(p[0].length) : day.rest,
      timed: Boolean(period),
    };
  }

  return chronoMoment(s, local, tz);
}

/**
 * Absolute dates and English phrases through chrono-node. Its reference is a
 * Date whose process-local wall clock shows the organisation's local time,
 * and its answer is read back as wall-clock parts in `tz`, so the process's
 * own zone never leaks in.
 */
function chronoMoment(s: string, local: DateTime, tz: string): Moment | null {
  const floating = new Date(local.year, local.month - 1, local.day, local.hour, local.minute, local.second);
  for (const parser of [chronoZhHans, chronoEn]) {
    const [result] = parser.parse(s, floating, { forwardDate: true });
    if (!result || result.index !== 0) continue;
    const start = result.start;
    // A bare time ("17:00") is not a date: chrono would read it as today.
    if (!start.isCertain('day') && !start.isCertain('weekday') && !start.isCertain('month')) {
      if (!/^(today|tonight|tomorrow)/.test(s)) continue;
    }
    const hourKnown = start.isCertain('hour');
    let at: DateTime;
    if (start.isCertain('timezoneOffset')) {
      // "3pm EST": the user named a zone, so chrono's instant is the real one.
      at = DateTime.fromJSDate(start.date(), { zone: tz });
    } else {
      at = DateTime.fromObject(
        {
          year: start.get('year')!,
          month: start.get('month')!,
          day: start.get('day')!,
          hour: hourKnown ? start.get('hour')! : 9,
          minute: hourKnown ? (start.get('minute') ?? 0) : 0,
        },
        { zone: tz },
      );
    }
    if (!hourKnown) at = at.set({ hour: 9, minute: 0 });
    return {
      at: at.set({ second: 0, millisecond: 0 }).toJSDate(),
      rest: s.slice(result.text.length),
      timed: hourKnown,
    };
  }
  return null;
}
