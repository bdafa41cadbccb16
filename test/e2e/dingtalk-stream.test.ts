import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDingTalkHarness, GROUP, type DingTalkHarness } from '../helpers/fake-dingtalk-harness.ts';
import { TOPIC_CARD, TOPIC_ROBOT } from '../helpers/fake-dingtalk-gateway.ts';

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('DingTalk over Stream mode (the real dingtalk-stream client against a fake gateway)', () => {
  let h: DingTalkHarness;
  beforeEach(async () => {
    h = await createDingTalkHarness({ mode: 'stream' });
  });
  afterEach(async () => {
    await h.close();
  });

  it('subscribes to robot messages and card callbacks and answers the gateway ping', async () => {
    expect(h.gateway!.subscriptions()).toEqual(
      expect.arrayContaining([
        { type: 'CALLBACK', topic: TOPIC_ROBOT },
        { type: 'CALLBACK', topic: TOPIC_CARD },
      ]),
    );
    const echo = await h.gateway!.ping();
    expect(echo.code).toBe(200);
    expect(JSON.parse(echo.data)).toHaveProperty('opaque');
    const ready = await h.sx.app.request('/readyz');
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { checks: Record<string, string> }).checks.dingtalk).toBe('ok');
    // No HTTP callback routes in Stream mode: nothing to attack there.
    expect((await h.sx.app.request('/dingtalk/webhook', { method: 'POST', body: '{}' })).status).toBe(404);
  });

  it('walks a quiz-like flow: help card, a private toast, a question card answered once per member and updated', async () => {
    // A member @-mentions the bot with `help`: acked at once, answered with a card.
    const ack = await h.gateway!.pushRobotMessage(h.robotMessage({ text: 'help', userId: 'm-li' }));
    expect(ack.code).toBe(200);
    await h.settle();
    expect(h.api.cards.size).toBe(1);
    const help = [...h.api.cards.values()][0]!;
    expect(help.openSpaceId).toBe(`dtv1.card//IM_GROUP.${GROUP}`);
    expect(help.callbackType).toBe('STREAM');
    expect(help.cardParamMap.title).toBe('书香 · 命令列表');
    expect(help.cardParamMap.body1).toContain('帮助 / help');
    // The outTrackId is our own message id: the outbox row.
    const row = await h.sx.db.prisma.outboxMessage.findUnique({ where: { id: help.outTrackId } });
    expect(row?.kind).toBe('card');

    // Clicking "我的身份" answers privately (userPrivateData), inside the callback.
    const whoami = await h.gateway!.pushCardCallback(h.cardClick(help, { userId: 'm-li', buttonText: '我的身份' }));
    const privateResult = (whoami.response as { userPrivateData?: { cardParamMap: Record<string, string> } })
      .userPrivateData?.cardParamMap;
    expect(privateResult?.result).toContain('李明');
    expect(privateResult?.result).toContain('身份：成员');

    // A question card; 李明 answers A, 张华 answers B, 李明 tries again.
    await h.gateway!.pushRobotMessage(h.robotMessage({ text: '钉钉测验', userId: 'sec-wang' }));
    await h.settle();
    const question = [...h.api.cards.values()].find((c) => c.cardParamMap.title === '每日一题')!;
    expect(question.cardParamMap.body1).toContain('0 人');

    const li = await h.gateway!.pushCardCallback(h.cardClick(question, { userId: 'm-li', buttonText: 'A 上海' }));
    expect(JSON.stringify(li.response)).toContain('回答正确');
    const zhang = await h.gateway!.pushCardCallback(h.cardClick(question, { userId: 'm-zhang', buttonText: 'B 北京' }));
    expect(JSON.stringify(zhang.response)).toContain('回答错误');
    const again = await h.gateway!.pushCardCallback(h.cardClick(question, { userId: 'm-li', buttonText: 'B 北京' }));
    expect(JSON.stringify(again.response)).toContain('已经答过');
    await h.settle();

    // Everyone's card shows the tally: updated with PUT /v1.0/card/instances. The two
    // answers' updates waited together, so they went out as one call with the newest tally.
    expect(question.updates).toBe(1);
    expect(question.cardParamMap.body1).toContain('2 人');
    expect(h.quiz.answers).toEqual(
      new Map([
        ['m-li', 'A'],
        ['m-zhang', 'B'],
      ]),
    );
    // One token for the whole flow; every OpenAPI call counted for the quota.
    expect(h.api.tokensIssued()).toBe(1);
    const used = await h.sx.db.prisma.dingTalkApiUsage.findMany();
    const calls = Object.fromEntries(used.map((u) => [u.api, u.calls]));
    expect(calls).toEqual({ 'card.createAndDeliver': 2, 'card.update': 1 });
    expect(used.every((u) => u.tenant === 'ding-corp-0001')).toBe(true);
  });

  it('does not reset the backoff for a gateway that accepts and drops at once', async () => {
    h.gateway!.dropOnOpen(3);
    h.gateway!.dropAll();
    await until(
      'three dropped connections and a good one',
      () => h.gateway!.connectionsOpened() === 5 && h.gateway!.openConnections() === 1,
    );
    await until('the stream to report connected', () => h.sx.dingtalk!.streamStatus()!.state === 'connected');
    // The first connection and the three dropped ones were all short-lived.
    expect(h.sx.dingtalk!.streamStatus()!.backoffLevel).toBe(4);
    expect(h.sx.dingtalk!.streamStatus()!.reconnects).toBe(4);
  });

  it("answers a slow action after the callback deadline by updating the member's private result", async () => {
    await h.close();
    h = await createDingTalkHarness({ mode: 'stream', cardAckBudgetMs: 100 });
    await h.gateway!.pushRobotMessage(h.robotMessage({ text: '钉钉测验' }));
    await h.settle();
    const question = [...h.api.cards.values()][0]!;
    const { response } = await h.gateway!.pushCardCallback(
      h.cardClick(question, { userId: 'm-li', buttonText: '慢慢想' }),
    );
    // In time for DingTalk, but empty: the action has not finished.
    expect(response).toEqual({});
    expect(question.privateData['m-li']).toBeUndefined();
    h.quiz.releaseSlow();
    await h.settle();
    expect(question.privateData['m-li']).toEqual({ result: 'ℹ️ 想好了', resultKind: 'info' });
    expect(question.updates).toBe(1);
  });

  it('drops frames it cannot read, writes nothing, and keeps the connection', async () => {
    h.gateway!.sendRaw('{this is not json');
    h.gateway!.sendRaw(JSON.stringify({ type: 'CALLBACK', headers: null, data: 1 }));
    // A well-formed frame whose data is broken JSON is still acked (so it is not pushed again).
    const ack = await h.gateway!.pushCallbackRaw(TOPIC_ROBOT, '{"msgId": "m1", "text": {"content": "帮', 'broken-data');
    expect(ack.code).toBe(200);
    // A card callback with broken data gets an empty answer (the card stays as it is).
    const cardAck = await h.gateway!.pushCallbackRaw(TOPIC_CARD, '{"outTrackId": ', 'broken-card');
    expect(JSON.parse(cardAck.data)).toEqual({ response: {} });
    await h.settle();
    expect(await h.sx.db.prisma.inboundEvent.count()).toBe(0);
    expect(await h.sx.db.prisma.outboxMessage.count()).toBe(0);

    // Same connection, still working.
    expect((await h.gateway!.ping()).code).toBe(200);
    expect(h.gateway!.connectionsOpened()).toBe(1);
    await h.gateway!.pushRobotMessage(h.robotMessage({ text: '我是谁' }));
    await h.settle();
    expect(h.api.webhookMessages).toHaveLength(1);
    const metrics = await (await h.sx.app.request('/metrics')).text();
    expect(metrics).toMatch(/shuxiang_dingtalk_stream_bad_frames 2/);
  });

  it('dedupes a robot message pushed twice (same msgId)', async () => {
    const msg = h.robotMessage({ text: '我是谁' });
    await h.gateway!.pushRobotMessage(msg);
    await h.gateway!.pushRobotMessage(msg);
    await h.settle();
    expect(h.api.webhookMessages).toHaveLength(1);
    const text = (h.api.webhookMessages[0]!.body as { text: { content: string } }).text.content;
    expect(text).toContain('李明');
  });

  it('reconnects with backoff after the connection drops, without a storm, visible in /readyz and /metrics', async () => {
    h.gateway!.refuseOpens(1_000);
    h.gateway!.dropAll();
    await until('readyz to report the outage', async () => (await h.sx.app.request('/readyz')).status === 503);
    const down = (await (await h.sx.app.request('/readyz')).json()) as { checks: Record<string, string> };
    expect(down.checks.dingtalk).toMatch(/stream (connecting|backoff)/);
    await until('a few refused attempts', () => h.gateway!.refusedOpens() >= 3);
    let metrics = await (await h.sx.app.request('/metrics')).text();
    expect(metrics).toMatch(/shuxiang_dingtalk_stream_connected 0/);
    expect(metrics).toMatch(/shuxiang_dingtalk_stream_failed_attempts [1-9]/);

    h.gateway!.refuseOpens(0);
    await until('the stream to come back', async () => (await h.sx.app.request('/readyz')).status === 200);
    // Exactly one new connection: one reconnect loop, not one per failure path.
    await new Promise((r) => setTimeout(r, 300));
    expect(h.gateway!.connectionsOpened()).toBe(2);
    expect(h.gateway!.openConnections()).toBe(1);
    metrics = await (await h.sx.app.request('/metrics')).text();
    expect(metrics).toMatch(/shuxiang_dingtalk_stream_connected 1/);
    expect(metrics).toMatch(/shuxiang_dingtalk_stream_reconnects 1/);
    // And it works.
    await h.gateway!.pushRobotMessage(h.robotMessage({ text: '我是谁' }));
    await h.settle();
    expect(h.api.webhookMessages).toHaveLength(1);
  });
});
