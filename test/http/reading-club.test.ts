import ExcelJS from 'exceljs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CalendarDataMissing, createWorkingDays, type WorkingDays } from '../../src/features/calendar/working-days.ts';
import { createManualClock } from '../../src/lib/clock.ts';
import { providers, type TestDatabase } from '../helpers/databases.ts';
import { createHarness, type Harness, type TranscriptMessage } from '../helpers/harness.ts';

/** The plan's other ways in and out, the quiz-contest button, settings, and once-keys under racing clicks. */

type FileMessage = TranscriptMessage & { file?: { name: string; url: string } };
const cardText = (m: TranscriptMessage | undefined) => JSON.stringify(m?.card ?? {});

async function sayWithFile(h: Harness, chatId: string, userId: string, text: string, name: string, bytes: Buffer) {
  const before = (await h.transcript(chatId)).reduce((m, x) => Math.max(m, x.rev), 0);
  const res = await h.shuxiang.app.request('/sandbox/api/messages', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ chatId, userId, text, file: { name, contentBase64: bytes.toString('base64') } }),
  });
  if (res.status !== 202) throw new Error(`say ${res.status}`);
  return (await h.transcript(chatId, before)).filter((m) => m.from === 'bot');
}

async function lastFile(h: Harness, chat: string): Promise<Buffer> {
  const f = ((await h.transcript(chat)) as FileMessage[]).filter((m) => m.file).at(-1)!.file!;
  return Buffer.from(await (await h.shuxiang.app.request(f.url)).arrayBuffer());
}

describe('reading club: plan in and out', () => {
  let h: Harness;
  beforeEach(async () => {
    // 2026-12-01 07:30 in Beijing; 2026 has holiday data, 2027 is taken as ordinary days here.
    h = await createHarness({
      clock: createManualClock('2026-11-30T23:30:00Z'),
      workingDays: createWorkingDays({ years: new Set([2026, 2027]) }),
    });
  });
  afterEach(async () => h.close());

  it('builds a year from the guided card and edits one session from the plan card', async () => {
    // 07:30 on 1 December in Beijing (30 November in UTC): the plan being made is next year's.
    expect((await h.say('group-a', 'm-li', '读书会 计划'))[0]?.card?.header.title).toBe('2027 年读书会计划');
    const [wizard] = await h.say('group-a', 'sec-wang', '读书会 计划 2027 新建');
    expect(wizard?.card?.header.title).toBe('新建 2027 年读书会计划');
    const bad = await h.click('group-a', 'sec-wang', wizard!, 'club.wizard', { day: '31', time: '14:30', m1: '学习' });
    expect(bad.toast?.text).toContain('1 到 28');
    const done = await h.click('group-a', 'sec-wang', wizard!, 'club.wizard', {
      day: '15',
      time: '14:30',
      place: '三楼会议室',
      m1: '学习《论中国共产党历史》',
      m2: '学史明理',
      m3: '学史增信',
    });
    expect(done.toast?.text).toBe('已生成 2027 年读书会计划，共 3 期。');
    const db = h.shuxiang.db.prisma;
    expect((await db.clubSession.findMany({ orderBy: { seq: 'asc' } })).map((s) => [s.seq, s.month, s.unitId])).toEqual(
      [
        [1, 1, 'demo-unit-office'],
        [2, 2, 'demo-unit-study'],
        [3, 3, 'demo-unit-office'],
      ],
    );
    // A second plan for the year is refused; 第4期 follows in the next free month.
    expect((await h.say('group-a', 'sec-wang', '读书会 计划 2027 新建'))[0]?.text).toContain('已经有读书会计划');

    const [plan] = await h.say('group-a', 'sec-wang', '读书会 计划 2027');
    await h.click('group-a', 'sec-wang', plan!, 'club.edit.open', { seq: '2' });
    const edit = (await h.transcript('dm-sec-wang')).filter((m) => m.card?.header.title === '修改第2期读书会').at(-1)!;
    const wrong = await h.click('dm-sec-wang', 'sec-wang', edit, 'club.edit', { unit: '组织部' });
    expect(wrong.toast?.text).toContain('没有名为「组织部」的单位');
    const ok = await h.click('dm-sec-wang', 'sec-wang', edit, 'club.edit', {
      time: '2027-02-26 15:00',
      format: '辩论赛',
      unit: '办公室',
    });
    expect(ok.toast?.text).toBe('第2期读书会已修改。');
    const s2 = await db.clubSession.findFirstOrThrow({ where: { seq: 2 } });
    expect([s2.startsAt.toISOString(), s2.format, s2.unitId, s2.theme]).toEqual([
      '2027-02-26T07:00:00.000Z',
      'debate',
      'demo-unit-office',
      '学史明理',
    ]);
    // Moved to a month that has a session: refused, nothing changed.
    expect((await h.say('group-a', 'sec-wang', '读书会 修改 2 时间 2027-03-02 15:00'))[0]?.text).toContain(
      '2027 年 3 月已经安排了第3期',
    );
  });

  it('rotates co-hosts past an excluded unit', async () => {
    await h.say('group-a', 'sec-wang', '单位 新建 宣传科');
    expect((await h.say('group-a', 'sec-wang', '读书会 轮换 排除 学习科'))[0]?.text).toBe(
      '承办单位轮换顺序：办公室 → 宣传科\n不参加轮换：学习科',
    );
    expect((await h.say('group-a', 'sec-wang', '读书会 轮换 排除 组织部'))[0]?.text).toContain(
      '没有名为「组织部」的单位',
    );
    const [wizard] = await h.say('group-a', 'sec-wang', '读书会 计划 2027 新建');
    await h.click('group-a', 'sec-wang', wizard!, 'club.wizard', {
      day: '10',
      time: '09:30',
      m1: '一',
      m2: '二',
      m3: '三',
    });
    const units = await h.shuxiang.db.prisma.clubSession.findMany({ orderBy: { seq: 'asc' } });
    const names = await h.shuxiang.db.prisma.unit.findMany();
    expect(units.map((s) => names.find((u) => u.id === s.unitId)?.name)).toEqual(['办公室', '宣传科', '办公室']);
  });

  it('answers bad input with a precise message and writes nothing', async () => {
    const say = async (user: string, text: string) => (await h.say('group-a', user, text))[0]?.text ?? '';
    expect(await say('sec-wang', '读书会 安排 2027-01-15 14:30')).toContain('请写上这一期的主题');
    expect(await say('sec-wang', '读书会 安排 2027-01-15 14:30 学习 形式 茶话会')).toContain('没有「茶话会」这种形式');
    expect(await say('sec-wang', '读书会 安排 2027-01-15 14:30 学习 环节 唱歌')).toContain('没有「唱歌」这个环节');
    expect(await say('sec-wang', '读书会 安排 2027-01-15 14:30 学习 承办 组织部')).toContain(
      '没有名为「组织部」的单位',
    );
    expect(await say('sec-wang', '读书会 安排 2027-13-15 14:30 学习')).toContain('日期 2027-13-15 不存在');
    expect(await say('sec-wang', '读书会 安排 2026-11-20 14:30 学习')).toContain('已经过去了');
    expect(await say('sec-wang', '读书会 计划 2027 删除')).toContain('「删除」不是计划的操作');
    expect(await say('sec-wang', '读书会 修改 9 地点 三楼')).toContain('没有第9期读书会');
    expect(await say('m-li', '签到 代签 @张华')).toContain('书记');
    expect(await say('m-li', '心得 提前写好的心得')).toContain('还没有举办过读书会');
    expect(await say('m-li', '读书会 点单')).toContain('还没有人点单');
    expect(await h.shuxiang.db.prisma.clubSession.count()).toBe(0);
  });

  it('exports the plan as XLSX that imports back into the next year, with the template offered', async () => {
    await h.say(
      'group-a',
      'sec-wang',
      '读书会 安排 2027-01-15 14:30 学习《论中国共产党历史》 承办 学习科 地点 三楼会议室 形式 知识抢答赛 标签 党史',
    );
    await h.say('group-a', 'sec-wang', '读书会 安排 2027-02-19 14:30 学史明理 环节 理论学习、领导讲话');
    await h.say('group-a', 'sec-wang', '读书会 导出 2027');
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load((await lastFile(h, 'dm-sec-wang')) as unknown as ArrayBuffer);
    const rows = wb.worksheets[0]!.getSheetValues().slice(1) as unknown[][];
    expect(rows.map((r) => r.slice(1))).toEqual([
      ['期数', '日期', '时间', '主题', '形式', '承办单位', '地点', '环节', '标签'],
      ['1', '2027-01-15', '14:30', '学习《论中国共产党历史》', '知识抢答赛', '学习科', '三楼会议室', '', '党史'],
      ['2', '2027-02-19', '14:30', '学史明理', '常规会议', '办公室', '', '理论学习、领导讲话', ''],
    ]);
    // The same rows moved a year on (numbers left blank) import as 2028's 第3–4期.
    for (const r of wb.worksheets[0]!.getRows(2, 2)!) {
      r.getCell(1).value = '';
      r.getCell(2).value = String(r.getCell(2).value).replace('2027', '2028');
    }
    const bytes = Buffer.from((await wb.xlsx.writeBuffer()) as ArrayBuffer);
    const replies = await sayWithFile(h, 'group-a', 'sec-wang', '读书会 导入 2028', '2028.xlsx', bytes);
    expect(replies[0]?.text).toContain('导入 2028 年读书会计划 2 期（第3期至第4期）');

    await h.say('group-a', 'sec-wang', '读书会 模板');
    const tpl = new ExcelJS.Workbook();
    await tpl.xlsx.load((await lastFile(h, 'dm-sec-wang')) as unknown as ArrayBuffer);
    expect(tpl.worksheets[0]!.getRow(1).getCell(4).value).toBe('主题');
    // Members cannot export or import.
    expect((await h.say('group-a', 'm-li', '读书会 导出 2027'))[0]?.text).toContain('书记');
  });

  it('takes a plan file sent without words (as Feishu and DingTalk send uploads) by its name', async () => {
    const csv = Buffer.from('日期,时间,主题\n2027-01-15,14:30,学习《论中国共产党历史》\n');
    const fromMember = await sayWithFile(h, 'group-a', 'm-li', '', '2027年读书会计划.csv', csv);
    expect(fromMember[0]?.text).toContain('书记');
    const taken = await sayWithFile(h, 'group-a', 'sec-wang', '', '2027年读书会计划.csv', csv);
    expect(taken[0]?.text).toContain('导入 2027 年读书会计划 1 期');
    // Any other file still goes to the question bank.
    const bank = await sayWithFile(h, 'group-a', 'sec-wang', '', '题目.csv', csv);
    expect(bank[0]?.text).not.toContain('读书会');
    // 读书会 alone shows the plan.
    expect((await h.say('group-a', 'm-li', '读书会'))[0]?.card?.header.title).toBe('2027 年读书会计划');
  });

  it('offers the secretary a live-contest button an hour before a quiz-contest session', async () => {
    await h.say('group-a', 'sec-wang', '读书会 安排 2026-12-04 14:30 党史知识抢答 形式 知识抢答赛');
    const db = h.shuxiang.db.prisma;
    const item = await db.scheduledItem.findFirstOrThrow({
      where: { kind: 'club.remind', payload: { contains: '"last":true' } },
    });
    expect(item.dueAt.toISOString()).toBe('2026-12-04T05:30:00.000Z');
    h.clock.set(item.dueAt);
    await h.shuxiang.scheduler.tick();
    await h.shuxiang.worker.drain(20);
    const card = (await h.transcript('group-a')).filter((m) => m.card?.header.title.startsWith('读书会提醒')).at(-1)!;
    expect((await h.click('group-a', 'm-li', card, 'quiz.contest.start')).toast?.text).toContain('书记');
    const started = await h.click('group-a', 'sec-wang', card, 'quiz.contest.start');
    expect(started.toast?.text).toContain('抢答赛开始了');
    expect(await db.quizRound.count({ where: { kind: 'contest', status: 'running' } })).toBe(1);
  });

  it('skips the group cards of a group the bot has left until the club is moved to another group', async () => {
    await h.say('group-a', 'sec-wang', '读书会 安排 2026-12-04 14:30 学习');
    const db = h.shuxiang.db.prisma;
    const feature = h.shuxiang.bot.features.find((f) => f.name === 'reading-club')!;
    const lines = await db.$transaction(async (tx) => {
      await tx.chat.update({ where: { id: 'demo-chat-group-a' }, data: { leftAt: h.clock.now() } });
      return feature.onChatLeft!(
        { orgId: 'demo-org', chatId: 'demo-chat-group-a', platform: 'sandbox', platformChatId: 'group-a' },
        tx,
      );
    });
    expect(lines).toEqual([{ key: 'club.left', params: { count: 1 } }]);
    h.clock.set('2026-12-04T06:00:00Z');
    await h.shuxiang.scheduler.tick();
    await h.shuxiang.worker.drain(20);
    expect((await h.transcript('group-a')).some((m) => m.card?.header.title === '第1期读书会 · 签到')).toBe(false);
    expect((await h.say('group-b', 'sec-wang', '读书会 本群'))[0]?.text).toContain('以后的 1 期');
    expect((await db.clubSession.findFirstOrThrow()).chatId).toBe('group-b');
  });

  it('keeps per-organisation settings and reschedules nothing already sent', async () => {
    expect((await h.say('group-a', 'sec-wang', '读书会 设置 提醒 3天,2小时'))[0]?.text).toContain(
      '开始前 3个工作日、2小时',
    );
    expect((await h.say('group-a', 'sec-wang', '读书会 设置 提醒 下周'))[0]?.text).toContain('没看懂「下周」');
    expect((await h.say('group-a', 'sec-wang', '读书会 设置 签到提前 999'))[0]?.text).toContain('0 到 240');
    await h.say('group-a', 'sec-wang', '读书会 安排 2026-12-18 14:30 学习');
    const items = await h.shuxiang.db.prisma.scheduledItem.findMany({
      where: { kind: 'club.remind' },
      orderBy: { dueAt: 'asc' },
    });
    // 3 working days before Friday 18 December: Tuesday 15th at 09:00 Beijing.
    expect(items.map((i) => i.dueAt.toISOString())).toEqual(['2026-12-15T01:00:00.000Z', '2026-12-18T04:30:00.000Z']);
  });
});

describe("reading club reminders planned before next year's holidays are known", () => {
  let h: Harness;
  let known = false;
  // 2027 has no data until the test imports it; then Monday 11 January is (for the test) a day off.
  const calendar: WorkingDays = {
    isWorkday(date) {
      if (date.startsWith('2027') && !known) throw new CalendarDataMissing(2027);
      if (date === '2027-01-11' || date === '2027-01-01') return false;
      const d = new Date(`${date}T00:00:00Z`).getUTCDay();
      return d !== 0 && d !== 6;
    },
    covers: (year) => year < 2027 || known,
    get lastYear() {
      return known ? 2027 : 2026;
    },
    year: () => null,
    refresh: async () => {},
    attach: () => {},
    start: () => {},
    stop: () => {},
  };
  beforeEach(async () => {
    known = false;
    h = await createHarness({ workingDays: calendar, clock: createManualClock('2026-12-10T02:00:00Z') });
  });
  afterEach(async () => h.close());

  it('looks again ten days ahead and goes on the day the imported calendar gives', async () => {
    await h.say('group-a', 'sec-wang', '读书会 安排 2027-01-15 14:30 学习');
    const db = h.shuxiang.db.prisma;
    const seven = async () =>
      (
        await db.scheduledItem.findMany({
          where: { kind: 'club.remind', status: 'active', payload: { contains: '"n":7' } },
        })
      ).map((i) => i.dueAt.toISOString());
    // Monday to Friday would say Wednesday 6 January; it looks again ten days before.
    expect(await seven()).toEqual(['2026-12-27T01:00:00.000Z']);
    known = true; // the secretary imports 2027's holidays
    h.clock.set('2026-12-27T01:00:00Z');
    await h.shuxiang.scheduler.tick();
    await h.shuxiang.worker.drain(20);
    expect((await h.transcript('group-a')).some((m) => m.card?.header.title.startsWith('读书会提醒'))).toBe(false);
    // With 11 January off, seven working days before the 15th is Tuesday 5 January.
    expect(await seven()).toEqual(['2027-01-05T01:00:00.000Z']);
  });
});

describe.each(providers)('reading club once-keys (%s)', (provider) => {
  let h: Harness;
  let database: TestDatabase;
  beforeEach(async () => {
    database = await provider.create();
    h = await createHarness({ database, clock: createManualClock('2026-12-01T06:00:00Z') });
  });
  afterEach(async () => {
    await h.close();
    await database.drop();
  });

  it('signs a member in once when two clicks race, and counts a topic supporter once', async () => {
    await h.say('group-a', 'sec-wang', '读书会 安排 2026-12-01 14:20 学习');
    const [card] = await h.say('group-a', 'sec-wang', '读书会 开始');
    const [a, b] = await Promise.all([
      h.click('group-a', 'm-li', card!, 'club.checkin'),
      h.click('group-a', 'm-li', card!, 'club.checkin'),
    ]);
    expect([a.toast?.text, b.toast?.text].filter((x) => x?.includes('签到成功'))).toHaveLength(1);
    expect([a.toast?.text, b.toast?.text].filter((x) => x?.includes('不用重复签到'))).toHaveLength(1);
    expect(await h.shuxiang.db.prisma.clubCheckin.count()).toBe(1);

    await h.say('group-a', 'm-zhang', '读书会 点单 红色家书');
    const [list] = await h.say('group-a', 'm-li', '读书会 点单');
    const votes = await Promise.all([
      h.click('group-a', 'm-li', list!, 'club.topic.support', { seq: '1' }),
      h.click('group-a', 'm-li', list!, 'club.topic.support', { seq: '1' }),
    ]);
    expect(votes.filter((v) => v.toast?.kind === 'success')).toHaveLength(1);
    expect(await h.shuxiang.db.prisma.clubTopicVote.count()).toBe(2);
    expect(cardText((await h.say('group-a', 'm-li', '读书会 点单'))[0])).toContain('"红色家书","2"');
  });
});
