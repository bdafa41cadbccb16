import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMessages } from '../../src/bot/messages.ts';
import {
  HolidayImportError,
  parseHolidayCn,
  parseNotice,
  type ParsedYear,
} from '../../src/features/calendar/holiday-notice.ts';
import { createWorkingDays, type HolidayDay } from '../../src/features/calendar/working-days.ts';

const dir = path.join(import.meta.dirname, '../fixtures/holiday-notices');
const notice = (year: number) => readFileSync(path.join(dir, `${year}.txt`), 'utf8');
const { t } = createMessages();
const bundled = createWorkingDays();

const kinds = (days: HolidayDay[]) => days.map((d) => `${d.date} ${d.off ? '休' : '班'}`);

/** The whole year, day by day, as a calendar built from `parsed` alone answers it. */
function everyDay(parsed: ParsedYear): boolean[] {
  const special = new Map(parsed.days.map((d) => [d.date, !d.off]));
  const out: boolean[] = [];
  for (
    let d = new Date(Date.UTC(parsed.year, 0, 1));
    d.getUTCFullYear() === parsed.year;
    d.setUTCDate(d.getUTCDate() + 1)
  ) {
    const iso = d.toISOString().slice(0, 10);
    out.push(special.get(iso) ?? (d.getUTCDay() !== 0 && d.getUTCDay() !== 6));
  }
  return out;
}

function bundledEveryDay(year: number): boolean[] {
  const out: boolean[] = [];
  for (let d = new Date(Date.UTC(year, 0, 1)); d.getUTCFullYear() === year; d.setUTCDate(d.getUTCDate() + 1)) {
    out.push(bundled.isWorkday(d.toISOString().slice(0, 10)));
  }
  return out;
}

/** The error a parse throws, as the secretary reads it. */
function problem(run: () => unknown): { key: string; text: string } {
  try {
    run();
  } catch (err) {
    if (err instanceof HolidayImportError) return { key: err.key, text: t(err.key, err.params) };
    throw err;
  }
  throw new Error('expected the import to be refused');
}

describe('the State Council notice parser', () => {
  // 2025 and 2026: the published notices in ../shared/reference; 2023 and 2024 transcribed likewise.
  it.each([2023, 2024, 2025, 2026])('reproduces the bundled chinese-days data for %i, day by day', (year) => {
    const parsed = parseNotice(notice(year));
    expect(parsed.year).toBe(year);
    expect(kinds(parsed.days)).toEqual(kinds(bundled.year(year)!.days));
    expect(everyDay(parsed)).toEqual(bundledEveryDay(year));
  });

  it('names each day with its festival, a pair item with both names', () => {
    const y2025 = parseNotice(notice(2025));
    expect(y2025.days.find((d) => d.date === '2025-10-06')!.name).toBe('国庆节、中秋节');
    expect(y2025.days.find((d) => d.date === '2025-01-26')).toEqual({ date: '2025-01-26', off: false, name: '春节' });
    // A range across two months: 5月31日（周六）至6月2日（周一）.
    expect(kinds(y2025.days.filter((d) => d.name === '端午节'))).toEqual([
      '2025-05-31 休',
      '2025-06-01 休',
      '2025-06-02 休',
    ]);
  });

  it('reads the 2027 fixture: 星期, 与周末连休, 不调休, and advice naming a date that is not a day off', () => {
    const parsed = parseNotice(notice(2027));
    expect(parsed.year).toBe(2027);
    expect(kinds(parsed.days)).toEqual([
      '2027-01-01 休',
      ...['05', '06', '07', '08', '09', '10', '11', '12', '13'].map((d) => `2027-02-${d} 休`),
      '2027-02-14 班',
      '2027-02-20 班',
      '2027-04-03 休',
      '2027-04-04 休',
      '2027-04-05 休',
      '2027-04-25 班',
      ...['01', '02', '03', '04', '05'].map((d) => `2027-05-${d} 休`),
      '2027-05-08 班',
      '2027-06-09 休',
      '2027-09-15 休',
      '2027-09-26 班',
      ...['01', '02', '03', '04', '05', '06', '07'].map((d) => `2027-10-${d} 休`),
      '2027-10-09 班',
    ]);
    // "安排职工在2月4日（农历腊月二十八）休息" is advice, not a day off.
    expect(parsed.days.some((d) => d.date === '2027-02-04')).toBe(false);
  });

  it('accepts the items alone, with line breaks and spaces as a chat app pastes them, and the year named', () => {
    const items = notice(2026)
      .split('\n')
      .filter((l) => /^[一二三四五六七]、/.test(l))
      .join('\n  ');
    const parsed = parseNotice(items, 2026);
    expect(kinds(parsed.days)).toEqual(kinds(bundled.year(2026)!.days));
    expect(problem(() => parseNotice(items)).text).toContain('没有找到通知的年份');
  });

  it('leaves the days of the year before out of a New Year range that starts in December', () => {
    const parsed = parseNotice(notice(2023));
    expect(parsed.days[0]).toEqual({ date: '2023-01-01', off: true, name: '元旦' });
  });
});

describe('a notice that cannot be taken as it is', () => {
  const base = notice(2026);

  it.each([
    [
      'a date that does not exist',
      base.replace('2月28日（周六）上班', '2月30日（周六）上班'),
      'holidays.notice.bad_date',
      '第二项（春节）：「2月30日」不是存在的日期',
    ],
    [
      'an extra working day that is not a weekend',
      base.replace('5月9日（周六）上班', '5月8日（周五）上班'),
      'holidays.notice.workday_not_weekend',
      '第四项（劳动节）：调休上班的5月8日是周五',
    ],
    [
      'a range that runs backwards',
      base.replace('6月19日（周五）至21日（周日）', '6月21日（周日）至19日（周五）'),
      'holidays.notice.backwards',
      '第五项（端午节）：放假从6月21日到6月19日',
    ],
    [
      'a weekday that does not match the date',
      base.replace('4月4日（周六）', '4月4日（周五）'),
      'holidays.notice.weekday',
      '第三项（清明节）：2026 年4月4日是周六，通知里写的是周五',
    ],
    [
      'a count that does not match the range',
      base.replace('共9天', '共8天'),
      'holidays.notice.count',
      '第二项（春节）：写的是共 8 天，按日期算是 9 天',
    ],
    [
      'a sentence with a date that says neither 放假 nor 上班',
      base.replace('9月25日（周五）至27日（周日）放假', '9月25日（周五）至27日（周日）休假'),
      'holidays.notice.unreadable',
      '第六项（中秋节）：没看懂',
    ],
    [
      'the same day in two items',
      base.replace('10月10日（周六）上班', '10月10日（周六）上班。10月1日放假'),
      'holidays.notice.twice',
      '2026-10-01 已在第七项（国庆节）中出现过',
    ],
  ])('refuses %s, naming the item', (_what, text, key, message) => {
    const p = problem(() => parseNotice(text));
    expect(p.key).toBe(key);
    expect(p.text).toContain(message);
    expect(p.text).toContain('没有保存任何数据');
  });

  it('refuses a notice of another year than the one named', () => {
    const p = problem(() => parseNotice(base, 2027));
    expect(p.text).toBe('你要导入的是 2027 年，但这份通知是 2026 年的。没有保存任何数据。');
  });

  it('catches last year’s notice with the year in the title changed: the weekdays give it away', () => {
    const p = problem(() => parseNotice(base.replaceAll('2026年', '2027年')));
    expect(p.key).toBe('holidays.notice.weekday');
    expect(p.text).toContain('第一项（元旦）：2027 年1月1日是周五，通知里写的是周四');
  });

  it('refuses a title and a body that name different years', () => {
    const p = problem(() => parseNotice(base.replace('现将2026年', '现将2027年')));
    expect(p.text).toContain('不同的年份（2026、2027）');
  });

  it('refuses text without any item', () => {
    expect(problem(() => parseNotice('国务院办公厅关于2027年部分节假日安排的通知\n正文待发布')).key).toBe(
      'holidays.notice.no_items',
    );
  });
});

describe('holiday-cn JSON', () => {
  const json = (year: number, days: { name: string; date: string; isOffDay: boolean }[]) =>
    JSON.stringify({
      $schema: 'https://raw.githubusercontent.com/NateScarlet/holiday-cn/master/schema.json',
      year,
      days,
    });
  const fromBundle = (year: number) =>
    bundled.year(year)!.days.map((d) => ({ name: d.name, date: d.date, isOffDay: d.off }));

  it('reads a year in the holiday-cn format, days of the year before left out', () => {
    const parsed = parseHolidayCn(
      json(2026, [{ name: '元旦', date: '2025-12-31', isOffDay: true }, ...fromBundle(2026)]),
      2026,
    );
    expect(kinds(parsed.days)).toEqual(kinds(bundled.year(2026)!.days));
  });

  it.each([
    ['a wrong year', json(2026, fromBundle(2026)), 2027, '你要导入的是 2027 年，但这份通知是 2026 年的'],
    [
      'a malformed date',
      json(2027, [{ name: '春节', date: '2027-2-5', isOffDay: true }]),
      undefined,
      '第1条（春节 2027-2-5）：「2027-2-5」不是有效的日期',
    ],
    [
      'a date that does not exist',
      json(2027, [
        { name: '元旦', date: '2027-01-01', isOffDay: true },
        { name: '春节', date: '2027-02-29', isOffDay: true },
      ]),
      undefined,
      '第2条（春节 2027-02-29）',
    ],
    [
      'a working day on a weekday',
      json(2027, [{ name: '春节', date: '2027-02-15', isOffDay: false }]),
      undefined,
      '调休上班的2027-02-15是周一',
    ],
    [
      'a date of another year',
      json(2027, [{ name: '元旦', date: '2029-01-01', isOffDay: true }]),
      undefined,
      '不在 2027 年内',
    ],
    ['not JSON', '{"year": 2027,', undefined, '不是有效的 JSON'],
    [
      'a missing field',
      JSON.stringify({ year: 2027, days: [{ date: '2027-01-01' }] }),
      undefined,
      'JSON 格式不对（days.0.name）',
    ],
  ])('refuses %s with a precise message', (_what, text, year, message) => {
    expect(problem(() => parseHolidayCn(text, year)).text).toContain(message);
  });
});
