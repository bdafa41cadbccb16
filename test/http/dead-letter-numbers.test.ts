import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../helpers/harness.ts';

/** `发送失败 重试 N` means the message listed as N, even after a newer failure. */
describe('dead-letter numbers', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  let minute = 0;
  async function deadLetter(text: string) {
    const at = new Date(Date.UTC(2026, 2, 2, 0, minute++));
    await h.shuxiang.db.prisma.outboxMessage.create({
      data: {
        id: `dead-${minute}`,
        platform: 'sandbox',
        orgId: 'demo-org',
        targetKind: 'chat',
        targetId: 'group-b',
        kind: 'text',
        body: JSON.stringify({ text }),
        status: 'dead',
        attempts: 5,
        nextAttemptAt: at,
        lastError: '230002 bot not in group',
        createdAt: at,
      },
    });
  }
  const status = async (text: string) =>
    (await h.shuxiang.db.prisma.outboxMessage.findFirst({ where: { body: JSON.stringify({ text }) } }))?.status;

  it('keeps the numbers it showed; a newer failure gets a new one', async () => {
    await deadLetter('第一条');
    await deadLetter('第二条');
    const [list] = await h.say('dm-sec-wang', 'sec-wang', '发送失败');
    expect(list!.text).toMatch(/2\. [^\n]*第二条[\s\S]*1\. [^\n]*第一条/);
    await deadLetter('第三条');
    const [retried] = await h.say('dm-sec-wang', 'sec-wang', '发送失败 重试 1');
    expect(retried!.text).toBe('已重新排队发送第 1 条消息。');
    expect(await status('第一条')).not.toBe('dead');
    expect(await status('第三条')).toBe('dead');
    const [again] = await h.say('dm-sec-wang', 'sec-wang', '发送失败 重试 1');
    expect(again!.text).toContain('第 1 条消息已经重新发送过了');
    const [later] = await h.say('dm-sec-wang', 'sec-wang', '发送失败');
    expect(later!.text).toMatch(/3\. [^\n]*第三条[\s\S]*2\. [^\n]*第二条/);
    expect(later!.text).not.toContain('第一条');
  });
});
