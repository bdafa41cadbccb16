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
