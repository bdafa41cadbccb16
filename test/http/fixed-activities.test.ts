import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/lib/clock.ts';
import { createWorkingDays } from '../../src/features/calendar/working-days.ts';
import { createHarness, type Harness, type TranscriptMessage } from '../helpers/harness.ts';

const cardText = (m: TranscriptMessage) => JSON.stringify(m.card);

describe("the fixed activities of a branch's year", () => {
  let h: Harness;
  beforeEach(async () => {
    // 07:30 on Monday 2026-12-07 in Beijing (the UTC date is the 6th).
    h = await createHarness({
      clock: createManualClock('2026-12-06T23:30:00Z'),
      workingDays: createWorkingDays({ years: new Set([2025, 2026]) }),
    });
  });
  afterEach(async () => {
    await h.close();
  });

  it('lists them, switches one on with one command, adjusts and switches it off', async () => {
    const [before] = await h.say('group-a', 'm-li', '日历');
    expect(before!.card!.header.title).toBe('2026 年固定活动');
    expect(cardText(before!)).toContain('发送「日历 开启 主题党日」');

    const [forbidden] = await h.say('group-a', 'm-li', '日历 开启 主题党日');
    expect(forbidden!.text).toContain('需要「书记」权限');
    const [on] = await h.say('group-a', 'sec-wang', '日历 开启 主题党日');
    expect(on!.text).toContain('已设置提醒（编号 1）：本月主题党日（组织生活日“3+5”）');
    expect(on!.text).toContain('三项固定动作：重温入党誓词、集中缴纳党费、学习政策文件');
    // The first working day of 2027 is not known yet: it says so instead of refusing.
    expect(on!.text).toContain('还没有 2027 年的数据');
    const [integrity] = await h.say('group-a', 'sec-wang', '日历 开启 廉政教育日');
    expect(integrity!.text).toContain('下次时间要等节假日数据导入后才能确定');
    await h.say('group-a', 'sec-wang', '日历 开启 集中学习');

    const [card] = await h.say('group-a', 'm-li', '日历');
    const text = cardText(card!);
    expect(text).toContain('每月第一个工作日 09:00');
    expect(text).toContain('每周五 15:00');
    expect(text).toContain('2026-12-11 15:00');
    expect(text).toContain('等待 2027 年节假日数据');

    const [adjusted] = await h.say('group-a', 'sec-wang', '日历 开启 集中学习 每周三 14:30');
    expect(adjusted!.text).toContain('每周三 14:30');
    const [list] = await h.say('group-a', 'sec-wang', '提醒列表');
    expect(list!.text!.match(/集中学习/g)).toHaveLength(1);
    expect(list!.text).toContain('每周三 14:30');

    const [off] = await h.say('group-a', 'sec-wang', '日历 关闭 集中学习');
    expect(off!.text).toBe('已关闭固定活动「集中学习」的提醒。');
    const [unknown] = await h.say('group-a', 'sec-wang', '日历 开启 年会');
    expect(unknown!.text).toContain('没有叫「年会」的固定活动');
  });

  it('tracks red education base visits against the yearly quota and reminds a branch behind in Q3', async () => {
    h.clock.set('2026-04-13T02:00:00Z');
    const [recorded] = await h.say('group-a', 'sec-wang', '活动 记录 红色教育基地 2026-04-12 沙洲村');
    expect(recorded!.text).toBe('已登记：2026-04-12 沙洲村。2026 年红色教育基地 1/2 次。');
    const [card] = await h.say('group-a', 'm-li', '日历');
    expect(cardText(card!)).toContain('1/2 次');
    expect(cardText(card!)).toContain('· 2026-04-12 沙洲村');
    const [bad] = await h.say('group-a', 'sec-wang', '活动 记录 红色教育基地 2026-02-30 沙洲村');
    expect(bad!.text).toContain('「2026-02-30」不是有效的日期');
    const [future] = await h.say('group-a', 'sec-wang', '活动 记录 红色教育基地 2026-05-01 井冈山');
    expect(future!.text).toContain('2026-05-01 还没到');

    const calendar = h.shuxiang.bot.features.find((f) => f.name === 'calendar')!;
    const job = calendar.periodic!.find((p) => p.name === 'red-base-quota')!;
    const behind = async () =>
      (await h.transcript('dm-sec-wang')).filter((m) => m.text?.includes('去红色教育基地的活动目前 1/2 次'));
    h.clock.set('2026-06-30T01:00:00Z');
    await job.run();
    await h.shuxiang.worker.drain();
    expect(await behind()).toHaveLength(0);
    h.clock.set('2026-07-01T01:00:00Z');
    await job.run();
    await job.run();
    await h.shuxiang.worker.drain();
    expect(await behind()).toHaveLength(1);
    h.clock.set('2026-07-20T01:00:00Z');
    await h.say('group-a', 'sec-wang', '活动 记录 红色教育基地 2026-07-18 韶山');
    h.clock.set('2026-08-03T01:00:00Z');
    await job.run();
    await h.shuxiang.worker.drain();
    expect(await behind()).toHaveLength(1);
  });
});
