import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/lib/clock.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';
import { botSaid, cardText, runUntil } from '../helpers/supervision.ts';

describe('a study task from assignment to completion', () => {
  let h: Harness;
  beforeEach(async () => {
    // 07:30 on Monday 2026-12-07 in Beijing: the UTC date is still the 6th.
    h = await createHarness({ clock: createManualClock('2026-12-06T23:30:00Z') });
  });
  afterEach(async () => {
    await h.close();
  });

  it('assigns to a unit and a member, posts the task list and tells each assignee privately', async () => {
    const [card, reply] = await h.say('group-a', 'sec-wang', '任务 新建 "学习《中国共产党简史》第1-3章" 截止 12-18 @学习科 @李明');
    expect(card!.card!.header.title).toBe('任务单 · 第1号');
    expect(cardText(card)).toContain('12-18（周五）18:00');
    expect(cardText(card)).toContain('🟢 按期推进');
    expect(reply!.text).toContain('已派发任务 1：学习《中国共产党简史》第1-3章');
    expect(reply!.text).toContain('对象：学习科、李明');
    await h.shuxiang.worker.drain();
    for (const dm of ['dm-m-li', 'dm-m-zhang', 'dm-m-chen']) {
      expect(await botSaid(h, dm, '您有一项新的学习任务（任务 1）')).toHaveLength(1);
    }
  });
});
