import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createManualClock } from '../../src/lib/clock.ts';
import { createWorkingDays } from '../../src/features/calendar/working-days.ts';
import { createHarness, type Harness, type TranscriptMessage } from '../helpers/harness.ts';
import { providers } from '../helpers/databases.ts';
import { QUIZ_ENV, seedQuestions } from '../helpers/quiz-fixtures.ts';

const notice = (year: number) =>
  readFileSync(path.join(import.meta.dirname, '../fixtures/holiday-notices', `${year}.txt`), 'utf8');

/** 07:30 on Sunday 2026-11-29 in Beijing: the UTC date is still the 28th. */
const MORNING = '2026-11-28T23:30:00Z';

/** The bundled data pinned to stop at 2026, as chinese-days 1.5 does, whatever the installed version has. */
const calendarTo2026 = () => createWorkingDays({ years: new Set([2025, 2026]) });

async function fire(h: Harness): Promise<void> {
  await h.shuxiang.scheduler.tick();
  await h.shuxiang.worker.drain();
}

async function sayWithFile(h: Harness, chatId: string, userId: string, text: string, name: string, body: string) {
  const before = (await h.transcript(chatId)).reduce((m, x) => Math.max(m, x.rev), 0);
  const res = await h.shuxiang.app.request('/sandbox/api/messages', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ chatId, userId, text, file: { name, contentBase64: Buffer.from(body).toString('base64') } }),
  });
  if (res.status !== 202) throw new Error(`say ${res.status}: ${await res.text()}`);
  return (await h.transcript(chatId, before)).filter((m) => m.from === 'bot');
}

const cardText = (m: TranscriptMessage) => JSON.stringify(m.card);

/** Pastes a notice and confirms its preview; returns the bot's reply to the confirm. */
async function importYear(h: Harness, text: string, chat = 'group-a', user = 'sec-wang') {
  const [preview] = await h.say(chat, user, `节假日 导入 ${text}`);
  expect(preview!.card?.header.title).toContain('预览');
  const before = (await h.transcript(chat)).length;
  const ack = await h.click(chat, user, preview!, 'calendar.holidays.confirm');
  await h.shuxiang.worker.drain();
  return { ack, replies: (await h.transcript(chat)).slice(before).filter((m) => m.from === 'bot') };
}

describe('the holiday calendar in chat', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness({ clock: createManualClock(MORNING), workingDays: calendarTo2026() });
  });
  afterEach(async () => {
    await h.close();
  });

  it('accepts working-day reminders that need 2027 today, then resumes them when the notice is confirmed', async () => {
    const [monthly] = await h.say('group-a', 'sec-wang', '提醒 每月最后一个工作日 17:00 提交本月学习记录');
    expect(monthly!.text).toContain('已设置提醒（编号 1）：提交本月学习记录');
    expect(monthly!.text).toContain('· 2026-11-30 周一 17:00\n· 2026-12-31 周四 17:00');
    expect(monthly!.text).toContain('节假日日历还没有 2027 年的数据，2027-01-01 起');
    const [yearly] = await h.say('group-a', 'sec-wang', '提醒 每年元旦后第一个工作日 09:00 廉政教育日');
    expect(yearly!.text).toContain('已设置提醒（编号 2）：廉政教育日');
    expect(yearly!.text).toContain('下次时间要等节假日数据导入后才能确定');
    const [list] = await h.say('group-a', 'sec-wang', '提醒列表');
    expect(list!.text).toContain('廉政教育日（等待 2027 年节假日数据，导入后自动继续）');

    // The monthly one fires on 30 November and 31 December, then waits for 2027 instead of guessing.
    h.clock.set('2026-11-30T09:00:01Z');
    await fire(h);
    h.clock.set('2026-12-31T09:00:01Z');
    await fire(h);
    const dm = await h.transcript('dm-sec-wang');
    expect(dm.some((m) => m.text?.includes('提交本月学习记录') && m.text.includes('节假日 导入'))).toBe(true);

    // Nothing is stored until a secretary confirms the preview.
    const [preview] = await h.say('group-a', 'sec-wang', `节假日 导入 ${notice(2027)}`);
    expect(preview!.card!.header.title).toBe('2027 年节假日安排（预览，尚未保存）');
    expect(cardText(preview!)).toContain('5日–13日 春节');
    expect(cardText(preview!)).toContain('14日 春节；20日 春节');
    expect(await h.shuxiang.db.prisma.holidayYear.count()).toBe(0);
    const before = (await h.transcript('group-a')).length;
    const ack = await h.click('group-a', 'sec-wang', preview!, 'calendar.holidays.confirm');
    expect(ack.toast?.text).toBe('2027 年节假日安排已导入');
    await h.shuxiang.worker.drain();
    const after = (await h.transcript('group-a')).slice(before).map((m) => m.text ?? '');
    expect(after.join('\n')).toContain('已导入 2027 年节假日安排：放假 27 天，调休上班 6 天');
    expect(after.join('\n')).toContain('已恢复 2 项');

    const [again] = await h.say('group-a', 'sec-wang', '提醒列表');
    // 1 January 2027 is a Friday off; the first working day is Monday the 4th. January ends on a Sunday.
    expect(again!.text).toMatch(/廉政教育日\n {4}发到：群「[^」]+」 · 下次：2027-01-04 周一 09:00/);
    expect(again!.text).toMatch(/提交本月学习记录\n {4}发到：群「[^」]+」 · 下次：2027-01-29 周五 17:00/);
    expect(again!.text).not.toContain('等待');
  });

  it('shows a year with where it came from, removes an imported year, and keeps an audit log', async () => {
    const [y2026] = await h.say('group-a', 'm-li', '节假日 2026');
    expect(y2026!.card!.header.title).toBe('2026 年节假日安排');
    expect(cardText(y2026!)).toContain('内置数据（chinese-days）');
    const [none] = await h.say('group-a', 'm-li', '节假日 2027');
    expect(none!.text).toContain('节假日日历还没有 2027 年的数据');

    await importYear(h, notice(2027));
    const [y2027] = await h.say('group-a', 'm-li', '节假日 2027');
    expect(cardText(y2027!)).toContain('王书记 于 2026-11-29 07:30 导入（国务院通知）');

    const [forbidden] = await h.say('group-a', 'm-li', '节假日 删除 2027');
    expect(forbidden!.text).toContain('需要「书记」权限');
    const [bundled] = await h.say('group-a', 'sec-wang', '节假日 删除 2026');
    expect(bundled!.text).toContain('2026 年用的是内置数据（chinese-days），不能删除');
    const [removed] = await h.say('group-a', 'sec-wang', '节假日 删除 2027');
    expect(removed!.text).toContain('已删除导入的 2027 年节假日安排');
    const [gone] = await h.say('group-a', 'm-li', '节假日 2027');
    expect(gone!.text).toContain('还没有 2027 年的数据');

    const [log] = await h.say('group-a', 'sec-wang', '节假日 记录');
    expect(log!.text).toContain('2026-11-29 07:30 王书记 删除 2027 年（新增 0 处，去掉 33 处）');
    expect(log!.text).toContain('2026-11-29 07:30 王书记 导入 2027 年（新增 33 处，去掉 0 处）');
  });

  it('refuses a member and broken notices with a precise message, storing nothing', async () => {
    const [member] = await h.say('group-a', 'm-li', `节假日 导入 ${notice(2027)}`);
    expect(member!.text).toContain('需要「书记」权限');
    const [wrongYear] = await h.say('group-a', 'sec-wang', `节假日 导入 2027 ${notice(2026)}`);
    expect(wrongYear!.text).toBe('你要导入的是 2027 年，但这份通知是 2026 年的。没有保存任何数据。');
    const [badDate] = await h.say(
      'group-a',
      'sec-wang',
      `节假日 导入 ${notice(2027).replace('6月9日（星期三）', '6月31日（星期三）')}`,
    );
    expect(badDate!.text).toBe('第五项（端午节）：「6月31日」不是存在的日期。没有保存任何数据。');
    const [empty] = await h.say('group-a', 'sec-wang', '节假日 导入');
    expect(empty!.text).toContain('请在「节假日 导入」后面粘贴');
    expect(await h.shuxiang.db.prisma.holidayYear.count()).toBe(0);
    expect(await h.shuxiang.db.prisma.holidayAudit.count()).toBe(0);
  });

  it('imports a holiday-cn JSON file attached to the command, and refuses a wrong year', async () => {
    const days = [
      { name: '元旦', date: '2027-01-01', isOffDay: true },
      { name: '春节', date: '2027-02-06', isOffDay: true },
      { name: '春节', date: '2027-02-14', isOffDay: false },
    ];
    const [wrong] = await sayWithFile(
      h,
      'group-a',
      'sec-wang',
      '节假日 导入 2028',
      '2027.json',
      JSON.stringify({ year: 2027, days }),
    );
    expect(wrong!.text).toContain('你要导入的是 2028 年，但这份通知是 2027 年的');
    const [preview] = await sayWithFile(
      h,
      'group-a',
      'sec-wang',
      '节假日 导入',
      '2027.json',
      JSON.stringify({ year: 2027, days }),
    );
    expect(cardText(preview!)).toContain('从holiday-cn JSON读出：放假 2 天，调休上班 1 天');
    await h.click('group-a', 'sec-wang', preview!, 'calendar.holidays.confirm');
    const [card] = await h.say('group-a', 'sec-wang', '节假日 2027');
    expect(cardText(card!)).toContain('导入（holiday-cn JSON）');
  });

  it('warns secretaries weekly from 1 November while next year has no data, once a week', async () => {
    await h.say('group-a', 'sec-wang', '提醒 每月最后一个工作日 17:00 提交本月学习记录');
    const calendar = h.shuxiang.bot.features.find((f) => f.name === 'calendar')!;
    const notice = calendar.periodic!.find((p) => p.name === 'year-end-notice')!;
    const warnings = async () =>
      (await h.transcript('dm-sec-wang')).filter((m) => m.text?.startsWith('节假日日历还没有 2027 年的数据'));

    h.clock.set('2026-10-31T01:00:00Z');
    await notice.run();
    await h.shuxiang.worker.drain();
    expect(await warnings()).toHaveLength(0);

    h.clock.set('2026-11-02T01:00:00Z');
    await notice.run();
    await notice.run();
    await h.shuxiang.worker.drain();
    const first = await warnings();
    expect(first).toHaveLength(1);
    expect(first[0]!.text).toContain('· 提醒「提交本月学习记录」（每月最后一个工作日 17:00）');
    expect(first[0]!.text).toContain('节假日 导入 （粘贴通知全文）');

    h.clock.set('2026-11-06T01:00:00Z');
    await notice.run();
    await h.shuxiang.worker.drain();
    expect(await warnings()).toHaveLength(1);
    h.clock.set('2026-11-09T01:00:00Z');
    await notice.run();
    await h.shuxiang.worker.drain();
    expect(await warnings()).toHaveLength(2);

    await importYear(h, notice2027());
    h.clock.set('2026-11-16T01:00:00Z');
    await notice.run();
    await h.shuxiang.worker.drain();
    expect(await warnings()).toHaveLength(2);
  });
});

const notice2027 = () => notice(2027);

describe('daily practice waiting for next year', () => {
  let h: Harness;
  afterEach(async () => {
    await h.close();
  });

  it('pauses after the last covered day and goes on by itself when the year is imported', async () => {
    h = await createHarness({
      clock: createManualClock('2026-12-30T02:00:00Z'),
      env: QUIZ_ENV,
      workingDays: calendarTo2026(),
    });
    await seedQuestions(h.shuxiang.db.prisma);
    await h.say('group-a', 'sec-wang', '每日一练 开启 09:00 2');
    h.clock.set('2026-12-31T01:00:00Z');
    await fire(h);
    const [paused] = await h.say('group-a', 'sec-wang', '每日一练 状态');
    expect(paused!.text).toContain('下一次：-');

    const { replies } = await importYear(h, notice(2027));
    expect(replies.map((m) => m.text).join('\n')).toContain('已恢复 1 项');
    const [status] = await h.say('group-a', 'sec-wang', '每日一练 状态');
    expect(status!.text).toContain('下一次：1月4日 09:00');
    h.clock.set('2027-01-04T01:00:01Z');
    await fire(h);
    const cards = (await h.transcript('group-a')).filter((m) => m.card?.header.title.startsWith('每日一练'));
    expect(cards.map((c) => c.card!.header.title)).toEqual(['每日一练 · 12月31日', '每日一练 · 1月4日']);
  });
});

describe.each(providers)('two instances on one database ($name)', ({ create }) => {
  it('two secretaries confirming different data for one year: the first wins, the second is told', async () => {
    const database = await create();
    const h = await createHarness({ database, clock: createManualClock(MORNING), workingDays: calendarTo2026() });
    try {
      const [first] = await h.say('group-a', 'sec-wang', `节假日 导入 ${notice(2027)}`);
      const changed = notice(2027).replace('六、中秋节：9月15日（星期三）放假，共1天。', '');
      const [second] = await h.say('group-a', 'sec-wang', `节假日 导入 ${changed}`);
      const [a, b] = await Promise.all([
        h.click('group-a', 'sec-wang', first!, 'calendar.holidays.confirm'),
        h.click('group-a', 'sec-wang', second!, 'calendar.holidays.confirm'),
      ]);
      const toasts = [a.toast?.kind, b.toast?.kind].sort();
      expect(toasts).toEqual(['success', 'warning']);
      const loser = a.toast?.kind === 'warning' ? a : b;
      expect(loser.toast!.text).toContain('没有保存：2027 年的节假日安排刚被 王书记 于 2026-11-29 07:30 导入');
      expect(await h.shuxiang.db.prisma.holidayAudit.count()).toBe(1);
      const row = await h.shuxiang.db.prisma.holidayYear.findUniqueOrThrow({ where: { year: 2027 } });
      expect(row.revision).toBe(1);
    } finally {
      await h.close();
      await database.drop();
    }
  });

  it('a confirm on instance A is answered by instance B within seconds, with no restart', async () => {
    const database = await create();
    const clock = createManualClock(MORNING);
    const a = await createHarness({ database, clock, workingDays: calendarTo2026() });
    const b = await createHarness({
      database,
      clock,
      workingDays: createWorkingDays({ years: new Set([2025, 2026]), refreshMs: 500 }),
    });
    try {
      b.shuxiang.bot.start();
      const [before] = await b.say('group-a', 'sec-wang', '节假日 2027');
      expect(before!.text).toContain('还没有 2027 年的数据');
      await importYear(a, notice(2027));
      await vi.waitFor(
        async () => {
          const [reply] = await b.say('group-a', 'sec-wang', '提醒 每年元旦后第一个工作日 09:00 廉政教育日');
          expect(reply!.text).toContain('· 2027-01-04 周一 09:00');
        },
        { timeout: 5000, interval: 300 },
      );
    } finally {
      await b.close();
      await a.close();
      await database.drop();
    }
  });
});
