import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../helpers/harness.ts';

/** The whole bot: reminders set through the sandbox, then "downtime" by moving the clock. */
describe('reminders after downtime', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness({ env: { SHUXIANG_ADMINS: 'sandbox:m-chen' } });
  });
  afterEach(async () => {
    await h.close();
  });

  async function fire(): Promise<void> {
    await h.shuxiang.scheduler.tick();
    await h.shuxiang.worker.drain();
  }

  it('sends a reminder that fell due within the grace window late, saying so', async () => {
    await h.say('group-a', 'sec-wang', '提醒 明天 08:00 交学习心得');
    h.clock.set('2026-03-03T03:00:00Z'); // 11:00, three hours late
    await fire();
    const texts = (await h.transcript('group-a')).map((m) => m.text);
    expect(texts).toContain('⏰ 提醒（补发，原定 03-03 08:00）：交学习心得');
    const row = await h.shuxiang.db.prisma.outboxMessage.findFirstOrThrow({ where: { body: { contains: '补发' } } });
    expect(JSON.parse(row.meta!)).toMatchObject({ late: true, dueAt: '2026-03-03T00:00:00.000Z' });
  });

  it('reports older reminders to every secretary once, privately, and does not send them', async () => {
    // 陈静 is a secretary through SHUXIANG_ADMINS; 王书记 through a role grant.
    await h.say('group-a', 'm-chen', '我是谁');
    await h.say('group-a', 'sec-wang', '提醒 明天 08:00 交学习心得');
    await h.say('group-a', 'sec-wang', '提醒 每天 08:30 学习强国打卡');
    h.clock.set('2026-03-03T15:00:00Z'); // 23:00, 15 h after
    await fire();
    await fire();
    h.clock.advance(60_000);
    await fire();
    const group = (await h.transcript('group-a')).map((m) => m.text ?? '');
    expect(group.some((t) => t.includes('交学习心得') && t.startsWith('⏰'))).toBe(false);
    for (const secretary of ['dm-sec-wang', 'dm-m-chen']) {
      const reports = (await h.transcript(secretary)).filter((m) => m.text?.includes('错过了补发时限'));
      expect(reports).toHaveLength(1);
      expect(reports[0]!.text).toContain('有 2 项定时任务');
      expect(reports[0]!.text).toContain('· 交学习心得：原定 03-03 08:00');
      expect(reports[0]!.text).toContain('· 学习强国打卡：原定 03-03 08:30');
      expect(reports[0]!.text).toContain('（6 小时）');
    }
    expect((await h.transcript('dm-m-li')).length).toBe(0);
    // the daily one carries on: next due tomorrow 08:30
    const [list] = await h.say('group-a', 'sec-wang', '提醒列表');
    expect(list!.text).toContain('下次：2026-03-04 周三 08:30');
    expect(list!.text).not.toContain('交学习心得');
  });

  it('lists messages that failed for good and lets a secretary queue one again', async () => {
    const db = h.shuxiang.db.prisma;
    const org = await db.organisation.findFirstOrThrow();
    await db.outboxMessage.create({
      data: {
        id: 'dead-1',
        platform: 'sandbox',
        orgId: org.id,
        targetKind: 'chat',
        targetId: 'group-b',
        kind: 'text',
        body: JSON.stringify({ text: '本周学习安排' }),
        status: 'dead',
        attempts: 8,
        nextAttemptAt: h.clock.now(),
        lastError: 'HTTP 503 after 8 attempts',
        createdAt: h.clock.now(),
      },
    });
    const [list] = await h.say('group-a', 'sec-wang', '发送失败');
    expect(list!.text).toContain('1. 2026-03-02 周一 09:00 → 群 group-b：本周学习安排');
    expect(list!.text).toContain('原因：HTTP 503 after 8 attempts');
    const [retried] = await h.say('group-a', 'sec-wang', 'outbox retry 1');
    expect(retried!.text).toBe('已重新排队发送第 1 条消息。');
    await h.shuxiang.worker.drain();
    expect((await h.transcript('group-b')).map((m) => m.text)).toContain('本周学习安排');
    const [empty] = await h.say('group-a', 'sec-wang', 'outbox dead');
    expect(empty!.text).toBe('没有发送失败的消息。');
    const [refused] = await h.say('group-a', 'm-li', '发送失败');
    expect(refused!.text).toContain('需要「书记」权限');
  });
});
