import { afterEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/lib/clock.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';

/**
 * Issue 11 part 1, as the secretary saw it: at 07:47 Beijing time the UTC date
 * is still yesterday, and the relative words must follow Beijing's date.
 */
describe('reminders with relative dates, early in the morning in Beijing', () => {
  let h: Harness;
  afterEach(async () => {
    await h.close();
  });

  async function at(iso: string, env: Record<string, string> = {}) {
    h = await createHarness({ clock: createManualClock(iso), env });
  }

  it('reads 明天, 今天 and 后天 on Beijing’s date at 07:47 on Sunday 29 November', async () => {
    await at('2026-11-28T23:47:00Z');
    const [tomorrow] = await h.say('group-a', 'sec-wang', '提醒 明天下午3点 开会');
    expect(tomorrow!.text).toContain('时间：2026-11-30 周一 15:00');
    const [today] = await h.say('group-a', 'sec-wang', '提醒 今天 20:00 支部学习');
    expect(today!.text).toContain('时间：2026-11-29 周日 20:00');
    const [dayAfter] = await h.say('group-a', 'sec-wang', '提醒 后天 8点 交材料');
    expect(dayAfter!.text).toContain('时间：2026-12-01 周二 08:00');
    const [monthEnd] = await h.say('group-a', 'sec-wang', '提醒 本月底 17:00 交党费');
    expect(monthEnd!.text).toContain('时间：2026-11-30 周一 17:00');
    const [english] = await h.say('group-a', 'sec-wang', 'remind tomorrow 3pm meeting');
    expect(english!.text).toContain('时间：2026-11-30 周一 15:00');
  });

  it('reads 明天 at 23:30 as the next day, and 今天 20:00 as past', async () => {
    await at('2026-11-29T15:30:00Z');
    const [tomorrow] = await h.say('group-a', 'sec-wang', '提醒 明天 08:00 交学习心得');
    expect(tomorrow!.text).toContain('时间：2026-11-30 周一 08:00');
    const [past] = await h.say('group-a', 'sec-wang', '提醒 今天 20:00 支部学习');
    expect(past!.text).toContain('2026-11-29 20:00 已经过去了');
  });

  it('reads the words in the organisation’s own time zone (New York, when UTC is already Monday)', async () => {
    // 21:30 on Sunday in New York is 02:30 on Monday UTC.
    await at('2026-11-30T02:30:00Z', { SHUXIANG_TIMEZONE: 'America/New_York' });
    const [tomorrow] = await h.say('group-a', 'sec-wang', '提醒 明天 9点 开会');
    expect(tomorrow!.text).toContain('时间：2026-11-30 周一 09:00');
    const [today] = await h.say('group-a', 'sec-wang', '提醒 今天 22:00 读书');
    expect(today!.text).toContain('时间：2026-11-29 周日 22:00');
  });

  it('fires 明天下午3点 at 15:00 Beijing time the next day, not the same day', async () => {
    await at('2026-11-28T23:47:00Z');
    await h.say('group-a', 'sec-wang', '提醒 明天下午3点 开会');
    const fired = async () => {
      await h.shuxiang.scheduler.tick();
      await h.shuxiang.worker.drain();
      return (await h.transcript('group-a')).filter((m) => m.text === '⏰ 提醒：开会').length;
    };
    h.clock.set('2026-11-29T07:00:05Z'); // 15:00 Beijing on the 29th
    expect(await fired()).toBe(0);
    h.clock.set('2026-11-30T07:00:05Z'); // 15:00 Beijing on the 30th
    expect(await fired()).toBe(1);
  });
});

describe('the README and help examples at any hour of a Beijing day', () => {
  let h: Harness;
  afterEach(async () => {
    await h.close();
  });

  // Monday 30 November 2026, Beijing time: just after midnight, early morning (UTC still Sunday), noon, late evening.
  it.each([
    ['00:30', '2026-11-29T16:30:00Z'],
    ['07:30', '2026-11-29T23:30:00Z'],
    ['12:00', '2026-11-30T04:00:00Z'],
    ['23:30', '2026-11-30T15:30:00Z'],
  ])('at %s', async (_hour, iso) => {
    h = await createHarness({ clock: createManualClock(iso) });
    const [monthly] = await h.say('group-a', 'sec-wang', '提醒 每月最后一个工作日 17:00 提交本月学习记录');
    expect(monthly!.text).toContain('已设置提醒（编号 1）：提交本月学习记录');
    // The last working day of November is today, Monday the 30th, until 17:00; then 31 December.
    expect(monthly!.text).toContain(
      iso < '2026-11-30T09:00:00Z' ? '· 2026-11-30 周一 17:00' : '· 2026-12-31 周四 17:00',
    );
    const [weekly] = await h.say('group-a', 'sec-wang', '提醒 周一 09:00 集中研学 @m-li');
    expect(weekly!.text).toContain('已设置提醒（编号 2）：集中研学');
    expect(weekly!.text).toContain('@：李明');
    // Before 09:00 on the Monday it is today; after, next Monday.
    expect(weekly!.text).toContain(
      iso < '2026-11-30T01:00:00Z' ? '· 2026-11-30 周一 09:00' : '· 2026-12-07 周一 09:00',
    );
    const [privately] = await h.say('group-a', 'sec-wang', '提醒 私聊 明天 15:00 交心得 @m-li');
    expect(privately!.text).toContain('时间：2026-12-01 周二 15:00');
    expect(privately!.text).toContain('发送：私聊 李明');
    const [list] = await h.say('group-a', 'sec-wang', '提醒列表');
    expect(list!.text).toMatch(/^1\. .*提交本月学习记录/m);
    expect(list!.text).toMatch(/^3\. 2026-12-01 周二 15:00（一次） · 交心得/m);
    const [cancel] = await h.say('group-a', 'sec-wang', '提醒列表 取消 2');
    expect(JSON.stringify(cancel!.card)).toContain('已取消提醒（编号 2）：集中研学');
  });
});

describe('a visit recorded with a day word', () => {
  let h: Harness;
  afterEach(async () => {
    await h.close();
  });

  it('活动 记录 … 昨天 at 07:30 Beijing time is Beijing’s yesterday, not UTC’s', async () => {
    h = await createHarness({ clock: createManualClock('2026-11-28T23:30:00Z') });
    const [recorded] = await h.say('group-a', 'sec-wang', '活动 记录 红色教育基地 昨天 沙洲村');
    expect(recorded!.text).toContain('2026-11-28');
    const [future] = await h.say('group-a', 'sec-wang', '活动 记录 红色教育基地 明天 井冈山');
    expect(future!.text).toContain('还没到');
  });
});
