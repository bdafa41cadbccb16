import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/lib/clock.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';
import { answer, botSaid, cardText, runUntil } from '../helpers/supervision.ts';

/**
 * A month of supervision in December 2026 (no holidays), on the manual clock:
 * task 1 is due Friday 12-18 18:00 Beijing. 张华 finishes early, 李明 exactly
 * at the deadline, 陈静 only after being chased and escalated.
 */
describe('a month of supervision', () => {
  let h: Harness;
  beforeEach(async () => {
    // 07:30 on Monday 2026-12-07 in Beijing: the UTC date is still the 6th.
    h = await createHarness({ clock: createManualClock('2026-12-06T23:30:00Z') });
  });
  afterEach(async () => {
    await h.close();
  });

  const groupCard = async () => {
    const all = await h.transcript('group-a');
    return all.filter((m) => m.card?.header.title === '任务单 · 第1号').at(-1)!;
  };

  it('warns, lights, praises on time, chases every working day, escalates once and records it all', async () => {
    await h.say('group-a', 'sec-wang', '单位 负责人 学习科 @张华');
    await h.say('group-a', 'sec-wang', '任务 新建 "学习《中国共产党简史》第1-3章" 截止 12-18 @学习科 @李明');
    await h.shuxiang.worker.drain();
    expect(cardText(await groupCard())).toContain('🟢 按期推进');

    // Friday 12-11: still green, nobody warned.
    await runUntil(h, '2026-12-11T02:00:00Z');
    expect(await botSaid(h, 'dm-m-li', '任务提醒')).toHaveLength(0);
    const list = await answer(h, 'dm-m-li', 'm-li', '任务');
    expect(list).toContain('🟢 任务 1：学习《中国共产党简史》第1-3章');

    // Tuesday 12-15 09:00 is 3 working days before: a private warning, the light turns yellow.
    await runUntil(h, '2026-12-15T01:00:30Z');
    const [warning] = await botSaid(h, 'dm-m-li', '任务提醒');
    expect(warning!.text).toContain('将于 12-18（周五）18:00 截止，还剩 3 个工作日');
    expect(await botSaid(h, 'dm-m-chen', '还剩 3 个工作日')).toHaveLength(1);
    expect(await botSaid(h, 'group-a', '任务提醒')).toHaveLength(0);
    expect(cardText(await groupCard())).toContain('🟡 临近截止');

    // 张华 finishes early with a note; 陈静 tries to complete for someone else's task later.
    h.clock.set('2026-12-16T03:00:00Z');
    const done = await answer(h, 'group-a', 'm-zhang', '完成 1 读完并写了心得');
    expect(done).toBe('已记录：任务 1「学习《中国共产党简史》第1-3章」完成，按时。');
    const again = await answer(h, 'group-a', 'm-zhang', '完成 1');
    expect(again).toContain('您已经完成了任务 1（12-16 11:00）');

    // Thursday 12-17: the 1-day warning, to those not done only.
    await runUntil(h, '2026-12-17T01:00:30Z');
    expect(await botSaid(h, 'dm-m-li', '还剩 1 个工作日')).toHaveLength(1);
    expect(await botSaid(h, 'dm-m-zhang', '还剩 1 个工作日')).toHaveLength(0);

    // 李明 reports exactly at the deadline: on time.
    h.clock.set('2026-12-18T10:00:00Z');
    const atDeadline = await answer(h, 'dm-m-li', 'm-li', 'done 1');
    expect(atDeadline).toContain('完成，按时');

    // The deadline fires at the same instant: 成效单 to the group, 督办单 to 陈静, named once.
    await runUntil(h, '2026-12-18T10:00:30Z');
    const [achievement] = await botSaid(h, 'group-a', '成效单 · 任务 1');
    expect(cardText(achievement)).toContain('李明');
    expect(cardText(achievement)).not.toContain('陈静');
    const named = await botSaid(h, 'group-a', '以下同志尚未完成');
    expect(named).toHaveLength(1);
    expect(named[0]!.text).toContain('陈静');
    expect(named[0]!.mentions).toEqual([{ id: 'm-chen', name: '陈静' }]);
    expect(await botSaid(h, 'dm-m-chen', '督办单 · 任务 1')).toHaveLength(1);
    expect(cardText(await groupCard())).toContain('🔴 已逾期');
    const late = await answer(h, 'dm-m-chen', 'm-chen', '任务');
    expect(late).toContain('🔴 任务 1');

    // Saturday and Sunday pass quietly; Monday, Tuesday, Wednesday 09:00 each bring a 督办单.
    await runUntil(h, '2026-12-20T12:00:00Z');
    expect(await botSaid(h, 'dm-m-chen', '督办单 · 任务 1')).toHaveLength(1);
    await runUntil(h, '2026-12-21T01:00:30Z');
    expect(cardText((await botSaid(h, 'dm-m-chen', '督办单')).at(-1))).toContain('逾期第 1 个工作日');
    await runUntil(h, '2026-12-22T01:00:30Z');
    expect(await botSaid(h, 'dm-sec-wang', '督办升级')).toHaveLength(0);
    await runUntil(h, '2026-12-23T01:00:30Z');
    expect(await botSaid(h, 'dm-m-chen', '督办单 · 任务 1')).toHaveLength(4);
    // Three working days overdue: the secretary and the unit's head hear, once.
    const [escalation] = await botSaid(h, 'dm-sec-wang', '督办升级');
    expect(escalation!.text).toContain('陈静的任务 1「学习《中国共产党简史》第1-3章」已逾期 3 个工作日');
    expect(await botSaid(h, 'dm-m-zhang', '督办升级')).toHaveLength(1);
    expect(await botSaid(h, 'group-a', '以下同志尚未完成')).toHaveLength(1);
    await runUntil(h, '2026-12-24T01:00:30Z');
    expect(await botSaid(h, 'dm-m-chen', '督办单 · 任务 1')).toHaveLength(5);
    expect(await botSaid(h, 'dm-sec-wang', '督办升级')).toHaveLength(1);

    // 陈静 finally finishes: the unit (all its members done) and the task close.
    h.clock.set('2026-12-24T06:00:00Z');
    const finally_ = await answer(h, 'dm-m-chen', 'm-chen', '完成 1');
    expect(finally_).toContain('完成，逾期 4 个工作日');
    expect(finally_).toContain('任务办结');
    expect(cardText(await groupCard())).toContain('✅ 已办结');
    await runUntil(h, '2026-12-31T01:00:30Z');
    expect(await botSaid(h, 'dm-m-chen', '督办单 · 任务 1')).toHaveLength(5);
    const closed = await answer(h, 'dm-m-chen', 'm-chen', '完成 1');
    expect(closed).toContain('任务 1 已全部办结，不能再汇报');

    // The record: every notice with who, when and what.
    const forbidden = await answer(h, 'group-a', 'm-li', '任务 记录 1');
    expect(forbidden).toContain('需要「书记」权限');
    const log = await answer(h, 'dm-sec-wang', 'sec-wang', '任务 记录 1');

    expect(log).toContain('12-07 07:30 王书记派发任务，截止 12-18（周五）18:00，对象：学习科、李明');
    expect(log).toContain('12-15 09:00 私聊提醒李明：距截止还有 3 个工作日');
    expect(log).toContain('12-16 11:00 张华完成（按时）：读完并写了心得（张华）');
    expect(log).toContain('12-18 18:00 李明完成（按时）');
    expect(log).toContain('12-18 18:00 成效单发到群里：按时完成 李明');
    expect(log).toContain('12-18 18:00 在群里点名逾期：陈静');
    expect(log).toContain('12-23 09:00 督办单私聊陈静：逾期第 3 个工作日');
    expect(log).toContain('12-23 09:00 逾期 3 个工作日，报告书记和单位负责人：陈静（通知 张华）');
    expect(log).toContain('12-24 14:00 陈静完成（逾期）');
    expect(log).toContain('学习科全体成员完成，单位办结（逾期）');
    expect(log.match(/督办单私聊陈静/g)).toHaveLength(5);
  });
});
