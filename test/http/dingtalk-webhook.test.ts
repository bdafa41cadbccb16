import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cardCallbackSignature, robotSignature } from '../../src/platforms/dingtalk/verify.ts';
import { CLIENT_SECRET, createDingTalkHarness, GROUP, type DingTalkHarness } from '../helpers/fake-dingtalk-harness.ts';

describe('DingTalk HTTP mode: POST /dingtalk/webhook and /dingtalk/card', () => {
  let h: DingTalkHarness;
  beforeEach(async () => {
    h = await createDingTalkHarness({ mode: 'webhook' });
  });
  afterEach(async () => {
    await h.close();
  });

  async function written() {
    const db = h.sx.db.prisma;
    const [events, messages, outbox, members] = await Promise.all([
      // Events, not the used-signature rows of the replay guard.
      db.inboundEvent.count({ where: { NOT: { platform: { startsWith: 'dingtalk:signature:' } } } }),
      // Messages are recorded in the inbox.
      db.inboxMessage.count(),
      db.outboxMessage.count(),
      db.member.count(),
    ]);
    return { events: events + messages, outbox, members };
  }
  const nothing = { events: 0, outbox: 0, members: 0 };

  async function sendHelpAndGetCard(title = '书香 · 命令列表') {
    const res = await h.postRobot(h.robotMessage({ text: 'help' }));
    expect(res.status).toBe(200);
    await h.settle();
    const card = [...h.api.cards.values()].find((c) => c.cardParamMap.title === title);
    if (!card) throw new Error(`no card ${title}`);
    return card;
  }

  it.each([
    ['a wrong signature', () => ({ sign: robotSignature(String(h.clock.now().getTime()), 'another-secret') })],
    [
      'a stale timestamp',
      () => {
        const ts = String(h.clock.now().getTime() - 60 * 60 * 1000 - 1000);
        return { timestamp: ts, sign: robotSignature(ts, CLIENT_SECRET) };
      },
    ],
    [
      'a timestamp from the future',
      () => {
        const ts = String(h.clock.now().getTime() + 2 * 60 * 60 * 1000);
        return { timestamp: ts, sign: robotSignature(ts, CLIENT_SECRET) };
      },
    ],
    ['no signature', () => ({ sign: '' })],
    ['a garbage timestamp', () => ({ timestamp: 'yesterday' })],
  ])('rejects %s with 401 and writes nothing', async (_name, headers) => {
    const res = await h.postRobot(h.robotMessage({ text: 'help' }), headers());
    expect(res.status).toBe(401);
    await h.settle();
    expect(await written()).toEqual(nothing);
    expect(h.api.calls).toHaveLength(0);
  });

  it('accepts a signature once: a replay with another body (claiming another member) is refused', async () => {
    const ts = String(h.clock.now().getTime());
    const headers = { timestamp: ts, sign: robotSignature(ts, CLIENT_SECRET) };
    expect((await h.postRobot(h.robotMessage({ text: '我是谁', userId: 'm-li' }), headers)).status).toBe(200);
    const replay = await h.postRobot(h.robotMessage({ text: '管理员 添加 @张华', userId: 'sec-wang' }), headers);
    expect(replay.status).toBe(409);
    await h.settle();
    expect(h.api.webhookMessages).toHaveLength(1);
    expect(await h.sx.db.prisma.member.findMany({ select: { platformUserId: true } })).toEqual([
      { platformUserId: 'm-li' },
    ]);
  });

  it('processes a message pushed twice (same msgId, fresh signature) once', async () => {
    const msg = h.robotMessage({ text: '我是谁' });
    expect((await h.postRobot(msg)).status).toBe(200);
    h.clock.advance(1);
    expect((await h.postRobot(msg)).status).toBe(200);
    await h.settle();
    expect(h.api.webhookMessages).toHaveLength(1);
    expect((await written()).events).toBe(1);
  });

  it('answers a body that is not JSON with 400 and writes nothing', async () => {
    const res = await h.postRobot('{"msgtype": "text", ');
    expect(res.status).toBe(400);
    await h.settle();
    expect(await written()).toEqual(nothing);
  });

  it('ignores a message whose sessionWebhook points anywhere but DingTalk, replying through the OpenAPI', async () => {
    const msg = { ...h.robotMessage({ text: '我是谁' }), sessionWebhook: 'http://169.254.169.254/latest?session=x' };
    expect((await h.postRobot(msg)).status).toBe(200);
    await h.settle();
    expect(h.api.webhookMessages).toHaveLength(0);
    expect(h.api.groupMessages).toHaveLength(1);
    expect(h.api.groupMessages[0]!.msgParam.content).toContain('李明');
  });

  it('rejects card callbacks without a valid x-ddpaas signature', async () => {
    const card = await sendHelpAndGetCard();
    const before = await written();
    const click = h.cardClick(card, { userId: 'm-li', buttonText: '我的身份' });
    const ts = String(h.clock.now().getTime());
    const attempts: Record<string, string>[] = [
      { 'x-ddpaas-signature': cardCallbackSignature(ts, 'wrong-secret') },
      { 'x-ddpaas-signature': '' },
      {
        'x-ddpaas-signature-timestamp': String(Number(ts) - 2 * 3600_000),
        'x-ddpaas-signature': cardCallbackSignature(String(Number(ts) - 2 * 3600_000), CLIENT_SECRET),
      },
    ];
    for (const headers of attempts) {
      expect((await h.postCard(click, headers)).status).toBe(401);
    }
    expect(await written()).toEqual(before);
  });

  it('refuses card params edited to claim another question, and never takes the member from the params', async () => {
    await h.postRobot(h.robotMessage({ text: '钉钉测验', userId: 'sec-wang' }));
    await h.settle();
    const question = [...h.api.cards.values()].find((c) => c.cardParamMap.title === '每日一题')!;
    const buttons = JSON.parse(question.cardParamMap.buttons!) as { text: string; d: string; s: string }[];
    const a = buttons.find((b) => b.text === 'A 上海')!;
    const before = await written();

    // The payload edited to another question (or option): the signature no longer matches.
    const edited = a.d.replace('"q":"q1"', '"q":"q2"');
    expect(edited).not.toBe(a.d);
    const forged = await h.postCard(h.cardClick(question, { userId: 'm-zhang', params: { d: edited, s: a.s } }));
    expect(forged.status).toBe(200);
    expect(await forged.json()).toEqual({});
    // The button of one card replayed against another card: refused too.
    await h.postRobot(h.robotMessage({ text: 'help' }));
    await h.settle();
    const help = [...h.api.cards.values()].find((c) => c.cardParamMap.title === '书香 · 命令列表')!;
    const moved = await h.postCard(h.cardClick(help, { userId: 'm-zhang', params: { d: a.d, s: a.s } }));
    expect(await moved.json()).toEqual({});
    expect(h.quiz.answers.size).toBe(0);
    expect((await written()).events).toBe(before.events + 1); // only the `help` message

    // Params claiming to be 李明: the operator is the callback's userId (张华).
    const claim = await h.postCard(
      h.cardClick(question, { userId: 'm-zhang', params: { d: a.d, s: a.s, userId: 'm-li', staffId: 'm-li' } }),
    );
    expect(JSON.stringify(await claim.json())).toContain('回答正确');
    expect([...h.quiz.answers.keys()]).toEqual(['m-zhang']);
  });

  it('walks a quiz-like flow over HTTP: card, inline callback answer, card updated for everyone', async () => {
    const res = await h.postRobot(h.robotMessage({ text: '钉钉测验', userId: 'sec-wang' }));
    expect(await res.json()).toEqual({ msgtype: 'empty' });
    await h.settle();
    const question = [...h.api.cards.values()].find((c) => c.cardParamMap.title === '每日一题')!;
    expect(question.callbackType).toBe('HTTP');
    expect(question.callbackRouteKey).toBe('shuxiang');
    expect(question.openSpaceId).toBe(`dtv1.card//IM_GROUP.${GROUP}`);

    const click = await h.postCard(h.cardClick(question, { userId: 'm-li', buttonText: 'A 上海' }));
    expect(click.status).toBe(200);
    const body = (await click.json()) as {
      userPrivateData?: { cardParamMap: Record<string, string> };
      cardUpdateOptions?: { updatePrivateDataByKey: boolean };
    };
    expect(body.userPrivateData?.cardParamMap.result).toBe('✅ 回答正确！');
    expect(body.userPrivateData?.cardParamMap.resultKind).toBe('success');
    expect(body.cardUpdateOptions?.updatePrivateDataByKey).toBe(true);
    await h.settle();
    expect(question.updates).toBe(1);
    expect(question.cardParamMap.body1).toContain('1 人');

    // A second click by the same member is answered, but changes nothing.
    h.clock.advance(1);
    const again = await h.postCard(h.cardClick(question, { userId: 'm-li', buttonText: 'B 北京' }));
    expect(JSON.stringify(await again.json())).toContain('已经答过');
    await h.settle();
    expect(question.updates).toBe(1);
  });
});
