import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDingTalkHarness, type DingTalkHarness } from '../helpers/fake-dingtalk-harness.ts';

describe('the DingTalk API quota (额度)', () => {
  let h: DingTalkHarness;
  beforeEach(async () => {
    h = await createDingTalkHarness({ mode: 'webhook', env: { DINGTALK_MONTHLY_QUOTA: '10' } });
  });
  afterEach(async () => {
    await h.close();
  });

  const lastWebhookText = () =>
    (h.api.webhookMessages[h.api.webhookMessages.length - 1]!.body as { text: { content: string } }).text.content;

  it('shows secretaries the calls of this month per API, and refuses members', async () => {
    for (let i = 0; i < 3; i++) await h.postRobot(h.robotMessage({ text: '钉钉测验', userId: 'sec-wang' }));
    await h.settle();
    await h.postRobot(h.robotMessage({ text: '额度', userId: 'sec-wang' }));
    await h.settle();
    const report = lastWebhookText();
    expect(report).toContain('已用：3 / 10 次（30%）');
    expect(report).toContain('互动卡片发送：3 次');
    expect(report).toContain('剩余：7 次');

    await h.postRobot(h.robotMessage({ text: 'quota', userId: 'm-li' }));
    await h.settle();
    expect(lastWebhookText()).toContain('书记');
    expect(lastWebhookText()).not.toContain('已用');
  });

  it('warns the secretaries privately once when 80 % is reached', async () => {
    // 王书记 is known to the organisation (SHUXIANG_ADMINS) once they have spoken.
    await h.postRobot(h.robotMessage({ text: '我是谁', userId: 'sec-wang' }));
    for (let i = 0; i < 8; i++) await h.postRobot(h.robotMessage({ text: '钉钉测验', userId: 'm-li' }));
    await h.settle();
    const warnings = h.api.privateMessages.filter((p) => p.msgParam.content?.includes('达到额度'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.userIds).toEqual(['sec-wang']);
    expect(warnings[0]!.msgParam.content).toContain('已使用钉钉接口 8 次');
    expect(warnings[0]!.msgParam.content).toContain('80%');
    // One more card: no second 80 % warning.
    await h.postRobot(h.robotMessage({ text: '钉钉测验', userId: 'm-li' }));
    await h.settle();
    expect(h.api.privateMessages.filter((p) => p.msgParam.content?.includes('80%'))).toHaveLength(1);
    expect(await h.sx.db.prisma.dingTalkQuotaWarning.count({ where: { level: 80 } })).toBe(1);
  });

  it('exposes the month’s count in /metrics', async () => {
    await h.postRobot(h.robotMessage({ text: '钉钉测验' }));
    await h.settle();
    const metrics = await (await h.sx.app.request('/metrics')).text();
    expect(metrics).toMatch(/shuxiang_dingtalk_api_calls_this_month 1/);
    expect(metrics).toMatch(/shuxiang_dingtalk_api_quota 10/);
    expect(metrics).toMatch(/shuxiang_dingtalk_api_calls_total\{api="card.createAndDeliver",outcome="ok"\} 1/);
  });
});
