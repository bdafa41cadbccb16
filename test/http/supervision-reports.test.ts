import ExcelJS from 'exceljs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/lib/clock.ts';
import { createHarness, type Harness, type TranscriptMessage } from '../helpers/harness.ts';
import { answer, botSaid, cardText, runUntil } from '../helpers/supervision.ts';

type FileMessage = TranscriptMessage & { file?: { name: string; url: string } };

async function sheetOf(h: Harness, message: FileMessage): Promise<unknown[][]> {
  const res = await h.shuxiang.app.request(message.file!.url);
  expect(res.status).toBe(200);
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(await res.arrayBuffer());
  return (wb.worksheets[0]!.getSheetValues().filter(Boolean) as unknown[][]).map((r) => r.slice(1));
}

describe('progress boards and cadence reports', () => {
  let h: Harness;
  beforeEach(async () => {
    // 07:30 on Monday 2026-12-07 in Beijing.
    h = await createHarness({ clock: createManualClock('2026-12-06T23:30:00Z') });
    await h.say('group-a', 'sec-wang', '任务 新建 "学习党章" 截止 12-11 @学习科 @李明');
    await h.say('group-a', 'sec-wang', '任务 新建 "学习条例" 截止 12-18 @办公室');
    h.clock.set('2026-12-09T02:00:00Z');
    await h.say('group-a', 'm-li', '完成 1');
    await h.say('group-a', 'm-zhang', '完成 1');
    await h.say('group-a', 'm-li', '完成 2');
  });
  afterEach(async () => {
    await h.close();
  });

  const periodic = (name: string) =>
    h.shuxiang.bot.features.find((f) => f.name === 'supervision')!.periodic!.find((p) => p.name === name)!;

  it('shows each task and each unit on the board, with bar charts', async () => {
    await runUntil(h, '2026-12-14T02:00:00Z');
    const [board] = await h.say('group-a', 'm-chen', '任务 看板');
    expect(board!.card!.header.title).toBe('学习进度看板');
    const charts = board!.card!.elements.filter((e) => e.type === 'chart');
    expect(charts).toHaveLength(2);
    const tables = board!.card!.elements.filter((e) => e.type === 'table');
    // Task 1: 李明 and 张华 on time, 陈静 pending; task 2: 李明 on time, 王书记 pending.
    expect(tables[0]).toMatchObject({
      rows: [
        ['1. 学习党章', '12-11（周五）18:00', '2', '0', '1'],
        ['2. 学习条例', '12-18（周五）18:00', '1', '0', '1'],
      ],
    });
    // 学习科: 2 shares due (张华 on time, 陈静 overdue) → 50%; 办公室: 李明 on time twice, 王书记's share not due yet → 100%.
    expect(tables[1]).toMatchObject({
      rows: [
        ['办公室', '3', '2', '100%'],
        ['学习科', '2', '1', '50%'],
      ],
    });
    expect(cardText(board)).toContain('🔴 任务 1：学习党章\\n🟢 任务 2：学习条例');
  });

  it('pushes the daily spot-check on working days only, and the monthly inspection with its sheet', async () => {
    // Tuesday 12-15 is 3 working days before task 2's deadline.
    await runUntil(h, '2026-12-15T01:00:00Z');
    await periodic('spot-check').run();
    await h.shuxiang.worker.drain();
    const [daily] = await botSaid(h, 'dm-sec-wang', '日抽查 · 2026-12-15');
    // Task 2 turned yellow today and is marked so; task 1 has been red since last week.
    expect(cardText(daily)).toContain('🟡 临近截止：任务2「学习条例」（今日新增）');
    expect(cardText(daily)).toContain('🔴 逾期未完成：任务1「学习党章」（陈静）');
    expect(cardText(daily)).not.toContain('（陈静）（今日新增）');
    await runUntil(h, '2026-12-19T01:00:00Z');
    await periodic('spot-check').run();
    await h.shuxiang.worker.drain();
    expect(await botSaid(h, 'dm-sec-wang', '日抽查 · 2026-12-19')).toHaveLength(0);
    expect(await botSaid(h, 'dm-m-li', '日抽查')).toHaveLength(0);

    await runUntil(h, '2026-12-31T12:00:00Z');
    h.clock.set('2027-01-01T01:30:00Z');
    await periodic('monthly-inspection').run();
    await h.shuxiang.worker.drain();
    const [monthly] = await botSaid(h, 'dm-sec-wang', '月督查 · 2026-12');
    expect(cardText(monthly)).toContain(
      '2026-12截止的任务 2 项，应完成 5 份，按时完成 3 份（60%），逾期完成 0 份，未完成 2 份',
    );
    const file = (await h.transcript('dm-sec-wang')).find((m) => (m as FileMessage).file) as FileMessage;
    expect(file.file!.name).toMatch(/月督查.*\.xlsx$/);
    const rows = await sheetOf(h, file);
    expect(rows[0]).toEqual(['单位', '成员', '任务数', '按时完成', '逾期完成', '未完成', '按时率', '督办单']);
    // 陈静: the deadline notice on 12-11 and one every working day 12-14..12-31; 王书记: 12-18 and 12-21..12-31.
    expect(rows).toContainEqual(['学习科', '陈静', 1, 0, 0, 1, '0%', 15]);
    expect(rows).toContainEqual(['办公室', '（合计）', 3, 2, 0, 1, '67%', 10]);

    // The quarterly census and the annual review go out the same morning, each with its sheet.
    await periodic('quarterly-census').run();
    await periodic('annual-review').run();
    await h.shuxiang.worker.drain();
    expect(cardText((await botSaid(h, 'dm-sec-wang', '季普查 · 2026Q4'))[0])).toContain('2026Q4截止的任务 2 项');
    expect(cardText((await botSaid(h, 'dm-sec-wang', '年评议 · 2026'))[0])).toContain('2026截止的任务 2 项');
    const files = (await h.transcript('dm-sec-wang')).filter((m) => (m as FileMessage).file) as FileMessage[];
    expect(files.map((f) => f.file!.name.replace(/[^月季年]/g, ''))).toEqual(['月', '季', '年']);
  });

  it('exports a quarter to XLSX privately on request', async () => {
    expect(await answer(h, 'group-a', 'sec-wang', '任务 导出 季 2026Q4')).toBe('已私聊发送季普查 · 2026Q4的表格。');
    await h.shuxiang.worker.drain();
    expect((await h.transcript('dm-sec-wang')).some((m) => (m as FileMessage).file?.name.includes('季普查'))).toBe(
      true,
    );
    expect(await answer(h, 'group-a', 'sec-wang', '任务 导出 周 2026')).toContain('报表种类请写 日、月、季 或 年');
    expect(await answer(h, 'group-a', 'sec-wang', '任务 导出 月 2026-13')).toContain('「2026-13」不是有效的时期');
    expect(await answer(h, 'group-a', 'm-li', '任务 导出 年 2026')).toContain('需要「书记」权限');
    expect(await answer(h, 'group-a', 'm-li', '帮助 任务')).toContain('任务 新建');
  });
});

describe('the daily stand-up (碰头会)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness({ clock: createManualClock('2026-12-06T23:30:00Z') });
  });
  afterEach(async () => {
    await h.close();
  });

  it('asks on working days, takes one line each, digests to the group and tells only the secretary who is missing', async () => {
    // Everyone has spoken in the group once, so the bot knows who is in it.
    for (const u of ['m-li', 'm-zhang', 'm-chen']) await h.say('group-a', u, '帮助');
    expect(await answer(h, 'group-a', 'm-li', '碰头会 开启 17:30 汇总 18:30')).toContain('需要「书记」权限');
    expect(await answer(h, 'group-a', 'sec-wang', '碰头会 开启 18:30 汇总 17:30')).toContain(
      '汇总时间 17:30 应晚于开启时间 18:30',
    );
    expect(await answer(h, 'group-a', 'sec-wang', '碰头会 开启 25:00 汇总 18:30')).toContain('「25:00」不是有效的时刻');
    expect(await answer(h, 'group-a', 'sec-wang', '碰头会 开启 17:30 汇总 18:30')).toContain('下次：2026-12-07 17:30');

    await runUntil(h, '2026-12-07T09:30:30Z');
    const [ask] = await botSaid(h, 'group-a', '碰头会 · 2026-12-07');
    expect(ask).toBeDefined();
    expect(await answer(h, 'group-a', 'm-li', '汇报 完成第二章学习')).toBe('已收到李明今天的汇报。');
    expect(await answer(h, 'group-a', 'm-li', 'report 完成第二章学习并整理笔记')).toBe('已更新李明今天的汇报。');
    const clicked = await h.click('group-a', 'm-zhang', ask!, 'supervision.standup.report', { text: '整理台账' });
    expect(clicked.toast?.text).toBe('已收到张华今天的汇报。');
    expect(await answer(h, 'group-a', 'm-chen', '汇报')).toContain('请写上汇报内容');

    await runUntil(h, '2026-12-07T10:30:30Z');
    const [digest] = await botSaid(h, 'group-a', '碰头会汇总 · 2026-12-07');
    expect(cardText(digest)).toContain('完成第二章学习并整理笔记');
    expect(cardText(digest)).toContain('整理台账');
    expect(cardText(digest)).not.toContain('陈静');
    const [missing] = await botSaid(h, 'dm-sec-wang', '未汇报');
    expect(missing!.text).toBe('碰头会（第一党支部学习群，2026-12-07）未汇报：陈静');
    expect(await botSaid(h, 'group-a', '碰头会（第一党支部学习群')).toHaveLength(0);

    // Saturday and Sunday: no stand-up.
    await runUntil(h, '2026-12-13T12:00:00Z');
    expect(await botSaid(h, 'group-a', '碰头会 · 2026-12-12')).toHaveLength(0);
    expect(await botSaid(h, 'group-a', '碰头会 · 2026-12-11')).toHaveLength(1);
    expect(await answer(h, 'group-a', 'sec-wang', '碰头会 关闭')).toBe('已关闭本群碰头会。');
    await runUntil(h, '2026-12-14T12:00:00Z');
    expect(await botSaid(h, 'group-a', '碰头会 · 2026-12-14')).toHaveLength(0);
  });

  it('stops the stand-up and sends group notices to the secretaries when the bot leaves the group', async () => {
    await h.say('group-a', 'sec-wang', '碰头会 开启 17:30 汇总 18:30');
    await h.say('group-a', 'sec-wang', '任务 新建 "学习党章" 截止 12-08 @李明');
    await h.shuxiang.bot.dispatcher.handleChatLeft!({
      type: 'chat_left',
      platform: 'sandbox',
      tenant: 'demo',
      eventKey: 'left-1',
      chat: { id: 'group-a' },
      receivedAt: h.clock.now(),
    });
    await h.shuxiang.worker.drain();
    const [notice] = await botSaid(h, 'dm-sec-wang', '本群的碰头会已停止');
    expect(notice!.text).toContain('1 项进行中的任务原发在本群');
    await runUntil(h, '2026-12-08T10:00:30Z');
    expect(await botSaid(h, 'group-a', '碰头会 · 2026-12-07')).toHaveLength(0);
    expect(await botSaid(h, 'dm-sec-wang', '成效单 · 任务 1')).toHaveLength(1);
    expect(await botSaid(h, 'dm-m-li', '督办单 · 任务 1')).toHaveLength(1);
  });
});
