import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { parseSchedule, TimeParseError } from '../../src/features/calendar/parse-time.ts';
import type { Rule } from '../../src/features/calendar/recurrence.ts';

// Monday 2026-03-02 09:00 in Shanghai.
const NOW = new Date('2026-03-02T01:00:00Z');
const TZ = 'Asia/Shanghai';

type Expected = { rule: Rule; text?: string } | { at: string; text?: string } | { error: TimeParseError['key'] };

const wd = (n: number) => ({ type: 'workday' as const, n });
const day = (d: number) => ({ type: 'day' as const, day: d });

const table: [string, Expected][] = [
  // ---- Chinese recurrences
  [
    '每月最后一个工作日 17:00 提交本月学习记录',
    { rule: { freq: 'monthly', day: wd(-1), time: '17:00' }, text: '提交本月学习记录' },
  ],
  ['周一 09:00 集中研学', { rule: { freq: 'weekly', weekdays: [1], time: '09:00' }, text: '集中研学' }],
  ['每天 8:00 学习强国打卡', { rule: { freq: 'daily', time: '08:00' }, text: '学习强国打卡' }],
  ['每日 早上7点半 晨读', { rule: { freq: 'daily', time: '07:30' }, text: '晨读' }],
  ['天天 21:00 写心得', { rule: { freq: 'daily', time: '21:00' } }],
  ['每个工作日 09:00 晨会', { rule: { freq: 'workdays', time: '09:00' }, text: '晨会' }],
  ['工作日 下午5点半 填日志', { rule: { freq: 'workdays', time: '17:30' }, text: '填日志' }],
  ['每工作日 8点 打卡', { rule: { freq: 'workdays', time: '08:00' } }],
  ['每周一、三、五 上午9点半 晨读', { rule: { freq: 'weekly', weekdays: [1, 3, 5], time: '09:30' }, text: '晨读' }],
  ['每周二和周四 15:00 小组学习', { rule: { freq: 'weekly', weekdays: [2, 4], time: '15:00' }, text: '小组学习' }],
  ['每周一至周五 08:30 签到', { rule: { freq: 'weekly', weekdays: [1, 2, 3, 4, 5], time: '08:30' } }],
  ['每周日 晚上8点 周总结', { rule: { freq: 'weekly', weekdays: [7], time: '20:00' }, text: '周总结' }],
  ['星期三 14:00 党课', { rule: { freq: 'weekly', weekdays: [3], time: '14:00' }, text: '党课' }],
  ['每星期五 下午4点 周报', { rule: { freq: 'weekly', weekdays: [5], time: '16:00' } }],
  ['每个礼拜六 10:00 志愿服务', { rule: { freq: 'weekly', weekdays: [6], time: '10:00' } }],
  ['周末 10:00 读书', { rule: { freq: 'weekly', weekdays: [6, 7], time: '10:00' } }],
  ['每月15号 09:00 主题党日', { rule: { freq: 'monthly', day: day(15), time: '09:00' }, text: '主题党日' }],
  ['每月5日 组织生活日', { rule: { freq: 'monthly', day: day(5), time: '09:00' }, text: '组织生活日' }],
  ['每月二十日 14:30 理论学习', { rule: { freq: 'monthly', day: day(20), time: '14:30' } }],
  ['每个月的最后一天 17:00 交材料', { rule: { freq: 'monthly', day: { type: 'lastDay' }, time: '17:00' } }],
  ['每月月底 16:00 对账', { rule: { freq: 'monthly', day: { type: 'lastDay' }, time: '16:00' } }],
  ['每月第一个工作日 9:00 月度计划', { rule: { freq: 'monthly', day: wd(1), time: '09:00' }, text: '月度计划' }],
  ['每月第三个工作日 10:00 三会一课', { rule: { freq: 'monthly', day: wd(3), time: '10:00' } }],
  [
    '每月第二个周四 下午3点 支委会',
    { rule: { freq: 'monthly', day: { type: 'nthWeekday', n: 2, weekday: 4 }, time: '15:00' } },
  ],
  [
    '每月最后一个星期五 16:00 学习交流',
    { rule: { freq: 'monthly', day: { type: 'nthWeekday', n: -1, weekday: 5 }, time: '16:00' } },
  ],
  [
    '每季度第一个工作日 10:00 现场教学',
    { rule: { freq: 'quarterly', month: 1, day: wd(1), time: '10:00' }, text: '现场教学' },
  ],
  ['每季度最后一个工作日 15:00 季度普查', { rule: { freq: 'quarterly', month: 3, day: wd(-1), time: '15:00' } }],
  ['每季度15日 09:00 季度督查', { rule: { freq: 'quarterly', month: 1, day: day(15), time: '09:00' } }],
  ['每季度第二个月10号 9:00 调研', { rule: { freq: 'quarterly', month: 2, day: day(10), time: '09:00' } }],
  [
    '每年元旦后第一个工作日 9:00 廉政教育',
    { rule: { freq: 'yearly', month: 1, day: wd(1), time: '09:00' }, text: '廉政教育' },
  ],
  ['元旦后第一个工作日 10:00 廉政教育日', { rule: { freq: 'yearly', month: 1, day: wd(1), time: '10:00' } }],
  ['每年3月5日 09:00 学雷锋', { rule: { freq: 'yearly', month: 3, day: day(5), time: '09:00' }, text: '学雷锋' }],
  ['每年七月一日 8:00 建党节', { rule: { freq: 'yearly', month: 7, day: day(1), time: '08:00' } }],
  ['每年12月最后一个工作日 14:00 年度评议', { rule: { freq: 'yearly', month: 12, day: wd(-1), time: '14:00' } }],
  ['每年最后一个工作日 14:00 年终总结', { rule: { freq: 'yearly', month: 12, day: wd(-1), time: '14:00' } }],
  ['每天 中午12点 午休提醒', { rule: { freq: 'daily', time: '12:00' } }],
  ['每天 中午1点 午休结束', { rule: { freq: 'daily', time: '13:00' } }],
  ['每天 凌晨12点 跨日', { rule: { freq: 'daily', time: '00:00' } }],
  ['每天 九点一刻 早读', { rule: { freq: 'daily', time: '09:15' } }],
  ['每天：08:00，打卡', { rule: { freq: 'daily', time: '08:00' }, text: '打卡' }],
  ['每天 提醒喝水', { rule: { freq: 'daily', time: '09:00' }, text: '提醒喝水' }],
  ['每天 ０８：３０ 全角时间', { rule: { freq: 'daily', time: '08:30' }, text: '全角时间' }],
  // ---- Chinese one-offs
  ['明天下午3点 开会', { at: '2026-03-03 15:00', text: '开会' }],
  ['明天 08:00 交心得', { at: '2026-03-03 08:00', text: '交心得' }],
  ['后天 8点 集合', { at: '2026-03-04 08:00', text: '集合' }],
  ['两小时后 喝水', { at: '2026-03-02 11:00', text: '喝水' }],
  ['30分钟后 开会', { at: '2026-03-02 09:30', text: '开会' }],
  ['半小时后 下楼', { at: '2026-03-02 09:30' }],
  ['3天后 10:00 交作业', { at: '2026-03-05 10:00', text: '交作业' }],
  ['3月5日 9:00 党课', { at: '2026-03-05 09:00', text: '党课' }],
  ['2026年5月1日上午10点 活动', { at: '2026-05-01 10:00', text: '活动' }],
  ['下周一 9:00 周会', { at: '2026-03-09 09:00', text: '周会' }],
  ['2026-03-10 08:30 考试', { at: '2026-03-10 08:30', text: '考试' }],
  ['17:00 下班前交表', { at: '2026-03-02 17:00', text: '下班前交表' }],
  ['08:00 明早的事', { at: '2026-03-03 08:00' }],
  ['今晚8点 观看直播', { at: '2026-03-02 20:00', text: '观看直播' }],
  // ---- English
  ['every monday 9am standup', { rule: { freq: 'weekly', weekdays: [1], time: '09:00' }, text: 'standup' }],
  ['every day at 8:00 check in', { rule: { freq: 'daily', time: '08:00' }, text: 'check in' }],
  ['daily 21:00 write notes', { rule: { freq: 'daily', time: '21:00' } }],
  ['every working day at 9 morning read', { rule: { freq: 'workdays', time: '09:00' }, text: 'morning read' }],
  ['every weekday 8:30am sign in', { rule: { freq: 'weekly', weekdays: [1, 2, 3, 4, 5], time: '08:30' } }],
  [
    'every tuesday and thursday 3pm study',
    { rule: { freq: 'weekly', weekdays: [2, 4], time: '15:00' }, text: 'study' },
  ],
  ['every mon, wed, fri 7:30 read', { rule: { freq: 'weekly', weekdays: [1, 3, 5], time: '07:30' } }],
  [
    'every month on the 15th at 9:00 party day',
    { rule: { freq: 'monthly', day: day(15), time: '09:00' }, text: 'party day' },
  ],
  ['monthly on the last working day 17:00 submit records', { rule: { freq: 'monthly', day: wd(-1), time: '17:00' } }],
  ['every month on the last day 16:00 close', { rule: { freq: 'monthly', day: { type: 'lastDay' }, time: '16:00' } }],
  [
    'on the first monday of every month 10:00 branch meeting',
    { rule: { freq: 'monthly', day: { type: 'nthWeekday', n: 1, weekday: 1 }, time: '10:00' } },
  ],
  [
    'quarterly on the first working day 10:00 site visit',
    { rule: { freq: 'quarterly', month: 1, day: wd(1), time: '10:00' } },
  ],
  [
    'every year on march 5 9:00 learn from Lei Feng',
    { rule: { freq: 'yearly', month: 3, day: day(5), time: '09:00' }, text: 'learn from Lei Feng' },
  ],
  [
    'every year on the first working day after new year 9:00 integrity day',
    { rule: { freq: 'yearly', month: 1, day: wd(1), time: '09:00' } },
  ],
  ['tomorrow 3pm meeting', { at: '2026-03-03 15:00', text: 'meeting' }],
  ['in 2 hours stretch', { at: '2026-03-02 11:00', text: 'stretch' }],
  ['in 45 minutes tea', { at: '2026-03-02 09:45' }],
  // ---- refused
  ['每周八 9:00 开会', { error: 'calendar.parse.bad_weekday' }],
  ['每星期X 9:00 开会', { error: 'calendar.parse.bad_weekday' }],
  ['every funday 9am party', { error: 'calendar.parse.bad_weekday' }],
  ['on the first blursday of every month 9:00 x', { error: 'calendar.parse.bad_weekday' }],
  ['每天 25:00 打卡', { error: 'calendar.parse.bad_time' }],
  ['每天 8:75 打卡', { error: 'calendar.parse.bad_time' }],
  ['每月32号 09:00 交材料', { error: 'calendar.parse.bad_day' }],
  ['every month on the 40th 9:00 x', { error: 'calendar.parse.bad_day' }],
  ['每年13月1日 9:00 x', { error: 'calendar.parse.bad_day' }],
  ['昨天 9:00 补交', { error: 'calendar.parse.past' }],
  ['2025-12-31 09:00 跨年', { error: 'calendar.parse.past' }],
  ['每天 09:00', { error: 'calendar.parse.no_text' }],
  ['明天 9点', { error: 'calendar.parse.no_text' }],
  ['随便什么时候 打卡', { error: 'calendar.parse.unknown' }],
  ['每月 交材料', { error: 'calendar.parse.unknown' }],
  ['whenever you like do it', { error: 'calendar.parse.unknown' }],
];

describe('schedule phrases', () => {
  it('has at least 60 phrases', () => {
    expect(table.length).toBeGreaterThanOrEqual(60);
  });

  it.each(table)('%s', (phrase, expected) => {
    if ('error' in expected) {
      let caught: unknown;
      try {
        parseSchedule(phrase, NOW, TZ);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(TimeParseError);
      expect((caught as TimeParseError).key).toBe(expected.error);
      return;
    }
    const parsed = parseSchedule(phrase, NOW, TZ);
    if ('rule' in expected) {
      expect(parsed.kind).toBe('rule');
      if (parsed.kind === 'rule') expect(parsed.rule).toEqual(expected.rule);
    } else {
      expect(parsed.kind).toBe('once');
      if (parsed.kind === 'once') {
        expect(DateTime.fromJSDate(parsed.at, { zone: TZ }).toFormat('yyyy-MM-dd HH:mm')).toBe(expected.at);
      }
    }
    if (expected.text !== undefined) expect(parsed.text).toBe(expected.text);
    else expect(parsed.text.length).toBeGreaterThan(0);
  });
});
