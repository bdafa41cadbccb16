import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createWorkingDays } from '../../src/features/calendar/working-days.ts';
import { providers, type TestDatabase } from '../helpers/databases.ts';
import { createHarness, type Harness, type TranscriptMessage } from '../helpers/harness.ts';

/** Issue 11 part 2: a reminder's number (编号) is its own for life, not its place in the list. */
describe.each(providers)('reminder numbers on $name', (provider) => {
  let database: TestDatabase;
  let h: Harness;
  beforeEach(async () => {
    // Monday 2026-03-02 09:00 in Shanghai.
    database = await provider.create();
    h = await createHarness({ database, workingDays: createWorkingDays({ years: new Set([2026]) }) });
  });
  afterEach(async () => {
    await h.close();
    await database.drop();
  });

  const cardText = (m: TranscriptMessage | undefined) => JSON.stringify(m?.card ?? m?.text ?? '');

  async function fire() {
    await h.shuxiang.scheduler.tick();
    await h.shuxiang.worker.drain();
  }

  it('cancelling 4 does not turn 5 into 4: `取消 5` cancels the reminder confirmed as 5', async () => {
    const texts = ['晨读', '交心得', '支部学习', '主题党日', '读书会'];
    for (const [i, text] of texts.entries()) {
      const [reply] = await h.say('group-a', 'sec-wang', `提醒 明天 ${10 + i}:00 ${text}`);
      expect(reply!.text).toContain(`已设置提醒（编号 ${i + 1}）：${text}`);
    }
    const [four] = await h.say('group-a', 'sec-wang', '提醒列表 取消 4');
    expect(cardText(four)).toContain('已取消提醒（编号 4）：主题党日');
    const [five] = await h.say('group-a', 'sec-wang', '提醒列表 取消 5');
    expect(cardText(five)).toContain('已取消提醒（编号 5）：读书会');
    const [list] = await h.say('group-a', 'sec-wang', '提醒列表');
    expect(list!.text).toContain('1. 2026-03-03 周二 10:00（一次） · 晨读');
    expect(list!.text).toContain('3. 2026-03-03 周二 12:00（一次） · 支部学习');
    expect(list!.text).not.toMatch(/主题党日|读书会/);
    // A new reminder takes a new number; 4 and 5 are never given again.
    const [six] = await h.say('group-a', 'sec-wang', '提醒 明天 16:00 交材料');
    expect(six!.text).toContain('已设置提醒（编号 6）：交材料');
    const [again] = await h.say('group-a', 'sec-wang', '提醒列表 取消 4');
    expect(again!.text).toContain('编号 4 的提醒（主题党日）已经取消过了');
  });

  it('reminders set at the same moment by two secretaries get two numbers', async () => {
    await h.say('group-a', 'sec-wang', '管理员 添加 @m-li');
    const replies = await Promise.all([
      h.say('group-a', 'sec-wang', '提醒 明天 10:00 晨读'),
      h.say('group-b', 'm-li', '提醒 明天 11:00 交心得'),
      h.say('dm-sec-wang', 'sec-wang', '提醒 明天 12:00 读书'),
    ]);
    const numbers = replies.map(([r]) => Number(/编号 (\d+)/.exec(r!.text ?? '')?.[1]));
    expect(numbers.sort()).toEqual([1, 2, 3]);
  });

  it('the list says which chat each reminder goes to, or whom privately', async () => {
    await h.say('group-a', 'sec-wang', '提醒 每天 08:00 学习强国打卡');
    await h.say('group-b', 'sec-wang', '提醒 周一 09:00 集中研学');
    await h.say('group-a', 'sec-wang', '提醒 私聊 明天 15:00 交心得 @m-li');
    const [list] = await h.say('dm-sec-wang', 'sec-wang', '提醒列表');
    expect(list!.text).toContain('1. 每天 08:00 · 学习强国打卡\n    发到：群「第一党支部学习群」');
    expect(list!.text).toContain('2. 每周一 09:00 · 集中研学\n    发到：群「学习科工作群」');
    expect(list!.text).toContain('3. 2026-03-03 周二 15:00（一次） · 交心得\n    发到：私聊 李明');
  });

  it('a cancel names what it cancelled and can be undone for 10 minutes, with the same number', async () => {
    await h.say('group-a', 'sec-wang', '提醒 每天 08:00 学习强国打卡');
    await h.say('group-a', 'sec-wang', '提醒 明天 15:00 交心得');
    const [card] = await h.say('group-a', 'sec-wang', '提醒列表 取消 1');
    expect(cardText(card)).toContain(
      '已取消提醒（编号 1）：学习强国打卡\\n时间：每天 08:00\\n发到：群「第一党支部学习群」',
    );
    expect(cardText(card)).toContain('撤销取消');
    // A member cannot undo it.
    const refused = await h.click('group-a', 'm-li', card!, 'calendar.reminder.restore');
    expect(refused.toast?.text).toContain('书记');
    h.clock.advance(5 * 60_000);
    const ack = await h.click('group-a', 'sec-wang', card!, 'calendar.reminder.restore');
    expect(ack.toast?.text).toContain('已恢复提醒（编号 1）：学习强国打卡');
    expect(ack.toast?.text).toContain('下次：2026-03-03 周二 08:00');
    const [list] = await h.say('group-a', 'sec-wang', '提醒列表');
    expect(list!.text).toContain('1. 每天 08:00 · 学习强国打卡');
    expect(list!.text).toContain('2. 2026-03-03 周二 15:00（一次） · 交心得');
    // And it fires again.
    h.clock.set('2026-03-03T00:00:05Z');
    await fire();
    expect((await h.transcript('group-a')).filter((m) => m.text === '⏰ 提醒：学习强国打卡')).toHaveLength(1);
  });

  it('the undo is refused after 10 minutes, and a one-off whose time has passed stays cancelled', async () => {
    await h.say('group-a', 'sec-wang', '提醒 每天 08:00 学习强国打卡');
    await h.say('group-a', 'sec-wang', '提醒 5分钟后 喝水');
    const [daily] = await h.say('group-a', 'sec-wang', '提醒列表 取消 1');
    const [once] = await h.say('group-a', 'sec-wang', '提醒列表 取消 2');
    h.clock.advance(6 * 60_000);
    const passed = await h.click('group-a', 'sec-wang', once!, 'calendar.reminder.restore');
    expect(passed.toast?.text).toContain('提醒 2 的时间已经过了');
    h.clock.advance(5 * 60_000);
    const late = await h.click('group-a', 'sec-wang', daily!, 'calendar.reminder.restore');
    expect(late.toast?.text).toContain('已超过 10 分钟');
    const [list] = await h.say('group-a', 'sec-wang', '提醒列表');
    expect(list!.text).toContain('还没有提醒');
  });
});
