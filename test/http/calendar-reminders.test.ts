import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createWorkingDays } from '../../src/features/calendar/working-days.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';

/** Runs the scheduler and the outbox worker once, as the timers would. */
async function fire(h: Harness): Promise<void> {
  await h.shuxiang.scheduler.tick();
  await h.shuxiang.worker.drain();
}

describe('reminders through the sandbox', () => {
  let h: Harness;
  beforeEach(async () => {
    // Monday 2026-03-02 09:00 in Shanghai; the holiday calendar pinned to 2026, so the
    // "no data for 2027" case keeps its meaning when chinese-days gains 2027.
    h = await createHarness({ workingDays: createWorkingDays({ years: new Set([2026]) }) });
  });
  afterEach(async () => {
    await h.close();
  });

  const items = () => h.shuxiang.db.prisma.scheduledItem.count({ where: { kind: 'reminder' } });

  it('confirms a monthly last-working-day reminder with the next three fire times', async () => {
    const [reply] = await h.say('group-a', 'sec-wang', '提醒 每月最后一个工作日 17:00 提交本月学习记录');
    expect(reply!.text).toContain('已设置提醒（编号 1）：提交本月学习记录');
    expect(reply!.text).toContain('每月最后一个工作日 17:00');
    // April 30 is a Thursday before the May Day holiday; May 29 a Friday.
    expect(reply!.text).toContain('· 2026-03-31 周二 17:00\n· 2026-04-30 周四 17:00\n· 2026-05-29 周五 17:00');
  });

  it('fires a weekly reminder once at its time, in the group, and again the next week', async () => {
    await h.say('group-a', 'sec-wang', 'remind 周一 09:30 集中研学');
    const before = (await h.transcript('group-a')).length;
    h.clock.set('2026-03-02T01:29:00Z');
    await fire(h);
    expect((await h.transcript('group-a')).length).toBe(before);
    h.clock.set('2026-03-02T01:30:05Z');
    await fire(h);
    await fire(h);
    const sent = (await h.transcript('group-a')).slice(before);
    expect(sent.map((m) => m.text)).toEqual(['⏰ 提醒：集中研学']);
    h.clock.set('2026-03-09T01:30:01Z');
    await fire(h);
    expect((await h.transcript('group-a')).slice(before).map((m) => m.text)).toEqual([
      '⏰ 提醒：集中研学',
      '⏰ 提醒：集中研学',
    ]);
  });

  it('@-mentions people in a group reminder and sends private reminders to each mentioned member', async () => {
    const [group] = await h.say('group-a', 'sec-wang', '提醒 明天 08:00 交学习心得 @m-li @m-zhang');
    expect(group!.text).toContain('@：李明、张华');
    const [priv] = await h.say('group-a', 'sec-wang', '提醒 私聊 明天 08:00 请交读书笔记 @m-chen');
    expect(priv!.text).toContain('发送：私聊 陈静');
    h.clock.set('2026-03-03T00:00:01Z');
    await fire(h);
    const inGroup = (await h.transcript('group-a')).filter((m) => m.text === '⏰ 提醒：交学习心得');
    expect(inGroup).toHaveLength(1);
    expect(inGroup[0]!.mentions?.map((m) => m.id).sort()).toEqual(['m-li', 'm-zhang']);
    const dm = await h.transcript('dm-m-chen');
    expect(dm.map((m) => m.text)).toContain('⏰ 提醒：请交读书笔记');
    expect((await h.transcript('group-a')).some((m) => m.text === '⏰ 提醒：请交读书笔记')).toBe(false);
  });

  it('lists reminders and cancels one by its number', async () => {
    await h.say('group-a', 'sec-wang', '提醒 每天 08:00 学习强国打卡');
    await h.say('group-a', 'sec-wang', '提醒 每季度第一个工作日 10:00 现场教学');
    const [list] = await h.say('group-a', 'sec-wang', '提醒列表');
    expect(list!.text).toContain('1. 每天 08:00 · 学习强国打卡');
    expect(list!.text).toContain('2. 每季度第1个月第一个工作日 10:00 · 现场教学');
    expect(list!.text).toContain('下次：2026-04-01 周三 10:00');
    const [cancelled] = await h.say('group-a', 'sec-wang', 'reminders cancel 1');
    expect(cancelled!.card!.header.title).toBe('已取消提醒 1');
    expect(JSON.stringify(cancelled!.card)).toContain('已取消提醒（编号 1）：学习强国打卡');
    const [after] = await h.say('group-a', 'sec-wang', 'reminders');
    expect(after!.text).not.toContain('学习强国打卡');
    // Numbers are for the reminder's life: the other one keeps its 2.
    expect(after!.text).toContain('2. 每季度');
    const [missing] = await h.say('group-a', 'sec-wang', '提醒列表 取消 9');
    expect(missing!.text).toContain('没有编号为 9 的提醒');
    // the cancelled one never fires
    h.clock.set('2026-03-03T00:00:01Z');
    await fire(h);
    expect((await h.transcript('group-a')).some((m) => m.text === '⏰ 提醒：学习强国打卡')).toBe(false);
  });

  it('refuses a member', async () => {
    const [reply] = await h.say('group-a', 'm-li', '提醒 每天 08:00 打卡');
    expect(reply!.text).toContain('需要「书记」权限');
    expect(await items()).toBe(0);
  });

  it.each([
    ['提醒 每周八 09:00 集中研学', '「每周八」不是星期几'],
    ['提醒 2026-03-01 09:00 开会', '已经过去了'],
    ['提醒 每年2月30日 09:00 纪念日', '永远不会到来'],
    ['提醒 每天 25:00 打卡', '不是有效的时刻'],
    ['提醒 --tz Mars/Olympus 每天 09:00 打卡', '「Mars/Olympus」不是有效的时区'],
    ['提醒 随便什么时候 打卡', '没看懂'],
    ['提醒 每天 09:00', '请写上提醒的内容'],
  ])('refuses %s with the reason and an example, saving nothing', async (text, reason) => {
    const [reply] = await h.say('group-a', 'sec-wang', text);
    expect(reply!.text).toContain(reason);
    expect(reply!.text).toMatch(/例如|e\.g\./);
    expect(await items()).toBe(0);
  });

  it('refuses a reminder text over the platform limit before saving it', async () => {
    const [reply] = await h.say('group-a', 'sec-wang', `提醒 每天 09:00 ${'学'.repeat(2100)}`);
    expect(reply!.text).toContain('提醒内容太长了');
    expect(reply!.text).toContain('最多 2000 字');
    expect(await items()).toBe(0);
  });

  it('accepts a working-day reminder that runs into a year without data, with the known times and a note', async () => {
    h.clock.set('2026-12-30T01:30:00Z');
    const [reply] = await h.say('group-a', 'sec-wang', '提醒 每个工作日 09:00 晨读');
    expect(reply!.text).toContain('已设置提醒（编号 1）：晨读');
    expect(reply!.text).toContain('· 2026-12-31 周四 09:00');
    expect(reply!.text).toContain('还没有 2027 年的数据，2027-01-01 起');
    expect(await items()).toBe(1);
  });
});
