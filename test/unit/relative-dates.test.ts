import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { parseMoment, parseSchedule, TimeParseError } from '../../src/features/calendar/parse-time.ts';

/**
 * Relative dates are read on the organisation's wall clock, never on the
 * server's (UTC) date: at 07:30 Beijing time the UTC date is still yesterday,
 * at 23:30 it is the same day, in New York at 21:30 it is already tomorrow.
 */
type Row = [phrase: string, expected: string | 'past'];

function check(now: string, tz: string, rows: Row[]) {
  const at = DateTime.fromISO(now, { zone: tz }).toJSDate();
  it.each(rows)(`${now} ${tz}: %s → %s`, (phrase, expected) => {
    if (expected === 'past') {
      let caught: unknown;
      try {
        parseSchedule(phrase, at, tz);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(TimeParseError);
      expect((caught as TimeParseError).key).toBe('calendar.parse.past');
      return;
    }
    const parsed = parseSchedule(phrase, at, tz);
    expect(parsed.kind).toBe('once');
    if (parsed.kind !== 'once') return;
    expect(DateTime.fromJSDate(parsed.at, { zone: tz }).toFormat('yyyy-MM-dd HH:mm')).toBe(expected);
    expect(parsed.text).toBe('开会');
  });
}

describe('relative dates at 07:30 Beijing time (Sunday 29 November; UTC is still Saturday)', () => {
  check('2026-11-29T07:30', 'Asia/Shanghai', [
    ['今天 20:00 开会', '2026-11-29 20:00'],
    ['今天 7:00 开会', 'past'],
    ['今晚8点 开会', '2026-11-29 20:00'],
    ['今天下午 开会', '2026-11-29 15:00'],
    ['明天下午3点 开会', '2026-11-30 15:00'],
    ['明天 开会', '2026-11-30 09:00'],
    ['明早7点半 开会', '2026-11-30 07:30'],
    ['明晚 开会', '2026-11-30 20:00'],
    ['后天 8点 开会', '2026-12-01 08:00'],
    ['大后天 09:00 开会', '2026-12-02 09:00'],
    ['昨天 9:00 开会', 'past'],
    // Chinese weeks start on Monday: on a Sunday, 下周一 is tomorrow.
    ['下周一 9:00 开会', '2026-11-30 09:00'],
    ['下周五 14:00 开会', '2026-12-04 14:00'],
    ['下个星期三 开会', '2026-12-02 09:00'],
    ['下下周一 开会', '2026-12-07 09:00'],
    ['下周 开会', '2026-11-30 09:00'],
    ['本周日 18:00 开会', '2026-11-29 18:00'],
    ['这周五 开会', 'past'],
    ['本周末 10:00 开会', '2026-11-29 10:00'],
    ['下周末 10:00 开会', '2026-12-05 10:00'],
    ['本月底 开会', '2026-11-30 09:00'],
    ['月底 17:00 开会', '2026-11-30 17:00'],
    ['下个月 开会', '2026-12-01 09:00'],
    ['下月5号 10:00 开会', '2026-12-05 10:00'],
    ['下个月底 开会', '2026-12-31 09:00'],
    ['3天后 10:00 开会', '2026-12-02 10:00'],
    ['三天后 开会', '2026-12-02 07:30'],
    ['两周后 9:00 开会', '2026-12-13 09:00'],
    ['两小时后 开会', '2026-11-29 09:30'],
    ['30分钟后 开会', '2026-11-29 08:00'],
    ['17:00 开会', '2026-11-29 17:00'],
    ['12月1日 9:00 开会', '2026-12-01 09:00'],
    ['2026年12月3日下午3点 开会', '2026-12-03 15:00'],
    ['tomorrow 3pm 开会', '2026-11-30 15:00'],
    ['today 20:00 开会', '2026-11-29 20:00'],
    ['next monday 9am 开会', '2026-11-30 09:00'],
  ]);
});

describe('relative dates at 23:30 Beijing time on the last day of a month (Monday 30 November)', () => {
  check('2026-11-30T23:30', 'Asia/Shanghai', [
    ['今天 20:00 开会', 'past'],
    ['今晚11点45分 开会', '2026-11-30 23:45'],
    ['明天 08:00 开会', '2026-12-01 08:00'],
    ['后天 开会', '2026-12-02 09:00'],
    ['本月底 开会', 'past'],
    ['下个月 开会', '2026-12-01 09:00'],
    ['下周一 开会', '2026-12-07 09:00'],
    ['本周五 开会', '2026-12-04 09:00'],
    ['1小时后 开会', '2026-12-01 00:30'],
    ['08:00 开会', '2026-12-01 08:00'],
    ['12月1日 开会', '2026-12-01 09:00'],
    ['tomorrow 8am 开会', '2026-12-01 08:00'],
  ]);
});

describe('relative dates in New York at 21:30 on Sunday 29 November (UTC is already Monday)', () => {
  check('2026-11-29T21:30', 'America/New_York', [
    ['今天 22:00 开会', '2026-11-29 22:00'],
    ['明天 9点 开会', '2026-11-30 09:00'],
    ['后天 开会', '2026-12-01 09:00'],
    ['下周一 开会', '2026-11-30 09:00'],
    ['本月底 20:00 开会', '2026-11-30 20:00'],
    ['下个月 开会', '2026-12-01 09:00'],
    ['11月30日 10:00 开会', '2026-11-30 10:00'],
    ['tomorrow 3pm 开会', '2026-11-30 15:00'],
  ]);
});

describe('relative dates in Tokyo at 07:30 on Monday 1 March 2027 (UTC is still February)', () => {
  check('2027-03-01T07:30', 'Asia/Tokyo', [
    ['今天 12:00 开会', '2027-03-01 12:00'],
    ['明天 开会', '2027-03-02 09:00'],
    ['本月底 开会', '2027-03-31 09:00'],
    ['下周一 开会', '2027-03-08 09:00'],
    ['3月5日 开会', '2027-03-05 09:00'],
  ]);
});

describe('a New York reminder across the end of summer time keeps its wall-clock hour', () => {
  check('2026-10-31T10:00', 'America/New_York', [
    ['后天 10:00 开会', '2026-11-02 10:00'],
    ['2天后 开会', '2026-11-02 10:00'],
  ]);
});

describe('parseMoment: a whole argument as one moment, for any command that takes a date', () => {
  const at = DateTime.fromISO('2026-11-29T07:30', { zone: 'Asia/Shanghai' }).toJSDate();
  const local = (d: Date | null) => d && DateTime.fromJSDate(d, { zone: 'Asia/Shanghai' }).toFormat('yyyy-MM-dd HH:mm');
  it.each([
    ['明天 18:00', '2026-11-30 18:00'],
    ['明天下午6点', '2026-11-30 18:00'],
    ['下周一 9点', '2026-11-30 09:00'],
    ['本月底', '2026-11-30 09:00'],
    ['2026-12-05 09:00', '2026-12-05 09:00'],
    ['12月5日 14:30', '2026-12-05 14:30'],
    ['17:00', '2026-11-29 17:00'],
    ['昨天 9:00', '2026-11-28 09:00'],
  ])('%s → %s', (text, expected) => {
    expect(local(parseMoment(text, at, 'Asia/Shanghai'))).toBe(expected);
  });
  it.each(['明天 18:00 开会', '随便', '', '每天 9:00'])('refuses %j', (text) => {
    expect(parseMoment(text, at, 'Asia/Shanghai')).toBeNull();
  });
});
