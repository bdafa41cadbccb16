import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createManualClock, type ManualClock } from '../../src/lib/clock.ts';
import { createSilentLogger } from '../../src/lib/logger.ts';
import { createDingTalkApi } from '../../src/platforms/dingtalk/api-client.ts';
import { createDingTalkMessenger } from '../../src/platforms/dingtalk/messenger.ts';
import { encodeReplyHandle } from '../../src/platforms/dingtalk/parse.ts';
import { createParamSigner } from '../../src/platforms/dingtalk/render-card.ts';
import { cardSchema, DeliveryError, type PlatformMessenger } from '../../src/platforms/types.ts';
import { startFakeDingTalkApi, type FakeDingTalkApi } from '../helpers/fake-dingtalk-api.ts';

const CLIENT = { clientId: 'cid', clientSecret: 'secret', robotCode: 'robot' };
const TEMPLATE = 'tpl-1.schema';
const card = cardSchema.parse({
  header: { title: '签到', colour: 'green' },
  elements: [
    { type: 'markdown', text: '第3期读书会\n地点：三楼会议室' },
    { type: 'buttons', buttons: [{ text: '签到', actionId: 'club.checkin', payload: { v: 1, s: 's3' } }] },
    {
      type: 'choice',
      name: 'rating',
      multiple: true,
      options: [
        { value: 'A', text: '内容好' },
        { value: 'B', text: '形式好' },
      ],
      submitText: '评价',
      actionId: 'club.rate',
      payload: { v: 1 },
    },
  ],
});

describe('DingTalk messenger against the fake OpenAPI', () => {
  let fake: FakeDingTalkApi;
  let clock: ManualClock;
  let calls: { api: string; outcome: string }[];

  function messenger(opts: { template?: boolean } = {}): PlatformMessenger {
    const api = createDingTalkApi({
      apiBase: fake.url,
      clientId: CLIENT.clientId,
      clientSecret: CLIENT.clientSecret,
      clock,
      log: createSilentLogger(),
      onCall: (api, outcome) => {
        calls.push({ api, outcome });
      },
    });
    return createDingTalkMessenger({
      api,
      clock,
      log: createSilentLogger(),
      robotCode: CLIENT.robotCode,
      cardTemplateId: opts.template === false ? undefined : TEMPLATE,
      callbackType: 'STREAM',
      callbackRouteKey: 'shuxiang',
      signer: createParamSigner(CLIENT.clientSecret),
    });
  }
  const key = (n: number | string) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

  beforeEach(async () => {
    clock = createManualClock(new Date());
    calls = [];
    fake = await startFakeDingTalkApi({
      ...CLIENT,
      templates: [TEMPLATE],
      quota: 100,
      now: () => clock.now().getTime(),
    });
  });
  afterEach(async () => {
    await fake.close();
  });

  it('fetches one token for concurrent sends and refreshes it once when DingTalk revokes it', async () => {
    const m = messenger();
    await Promise.all(
      [1, 2, 3, 4, 5].map((i) => m.sendText({ kind: 'chat', id: 'cid1' }, `第${i}条`, { idempotencyKey: key(i) })),
    );
    expect(fake.calls.filter((c) => c.path === '/v1.0/oauth2/accessToken')).toHaveLength(1);
    fake.revokeTokens();
    await m.sendText({ kind: 'chat', id: 'cid1' }, '再来一条', { idempotencyKey: key(6) });
    expect(fake.calls.filter((c) => c.path === '/v1.0/oauth2/accessToken')).toHaveLength(2);
    expect(fake.groupMessages).toHaveLength(6);
    // Token calls are exempt from the quota and not counted; the refused call is.
    expect(calls.filter((c) => c.api === 'robot.groupSend').map((c) => c.outcome)).toEqual([
      'ok',
      'ok',
      'ok',
      'ok',
      'ok',
      'error',
      'ok',
    ]);
  });

  it('turns the 20-a-second limit into retries with a delay', async () => {
    const m = messenger();
    const results = await Promise.allSettled(
      Array.from({ length: 25 }, (_, i) =>
        m.sendText({ kind: 'chat', id: 'cid1' }, `消息${i}`, { idempotencyKey: key(i) }),
      ),
    );
    const failed = results
      .filter((r) => r.status === 'rejected')
      .map((r) => (r as PromiseRejectedResult).reason as DeliveryError);
    expect(fake.groupMessages).toHaveLength(20);
    expect(failed).toHaveLength(5);
    for (const err of failed) {
      expect(err).toBeInstanceOf(DeliveryError);
      expect(err.kind).toBe('retry');
      expect(err.retryAfterMs).toBeGreaterThanOrEqual(1000);
    }
  });

  it('keeps messages for later when the credentials are refused', async () => {
    const api = createDingTalkApi({
      apiBase: fake.url,
      clientId: CLIENT.clientId,
      clientSecret: 'wrong',
      clock,
      log: createSilentLogger(),
    });
    const m = createDingTalkMessenger({
      api,
      clock,
      log: createSilentLogger(),
      robotCode: CLIENT.robotCode,
      callbackType: 'STREAM',
      callbackRouteKey: 'shuxiang',
      signer: createParamSigner('wrong'),
    });
    const err = (await m
      .sendText({ kind: 'chat', id: 'cid1' }, '你好', { idempotencyKey: key(1) })
      .catch((e: unknown) => e)) as DeliveryError;
    expect(err.kind).toBe('retry');
    expect(err.retryAfterMs).toBe(60_000);
    expect(fake.groupMessages).toHaveLength(0);
  });

  it('gives up with a reason secretaries can read when the monthly quota is spent', async () => {
    fake.setQuotaUsed(100);
    const err = (await messenger()
      .sendText({ kind: 'chat', id: 'cid1' }, '你好', { idempotencyKey: key(1) })
      .catch((e: unknown) => e)) as DeliveryError;
    expect(err.kind).toBe('permanent');
    expect(err.reasonKey).toBe('dingtalk.error.quota');
  });

  it('sends identical private messages to many members in batches of 20, re-queueing flow-controlled ones', async () => {
    const m = messenger();
    fake.flowControlOnce(['u3']);
    const users = Array.from({ length: 25 }, (_, i) => `u${i}`).concat(['ghost-1']);
    const results = await Promise.allSettled(
      users.map((u, i) =>
        m.sendText({ kind: 'user', id: u }, '明天上午九点读书会，请准时参加。', { idempotencyKey: key(i) }),
      ),
    );
    const batches = fake.calls.filter((c) => c.path === '/v1.0/robot/oToMessages/batchSend');
    expect(batches.map((b) => (b.body.userIds as string[]).length)).toEqual([20, 6]);
    const byUser = Object.fromEntries(users.map((u, i) => [u, results[i]!]));
    expect(byUser.u0!.status).toBe('fulfilled');
    const flow = (byUser.u3 as PromiseRejectedResult).reason as DeliveryError;
    expect(flow.kind).toBe('retry');
    expect(flow.retryAfterMs).toBeGreaterThan(0);
    const ghost = (byUser['ghost-1'] as PromiseRejectedResult).reason as DeliveryError;
    expect(ghost.kind).toBe('permanent');
    expect(ghost.reasonKey).toBe('dingtalk.error.user_unreachable');
    // The retry of the flow-controlled member goes through.
    await m.sendText({ kind: 'user', id: 'u3' }, '明天上午九点读书会，请准时参加。', { idempotencyKey: key(3) });
    expect(fake.privateMessages.flatMap((p) => p.userIds).filter((u) => u === 'u3')).toHaveLength(1);
  });

  it('replies on a valid sessionWebhook with real @-mentions, and falls back to the OpenAPI once it expires', async () => {
    const m = messenger();
    const session = fake.openSession('cid1', 5_400_000);
    const replyHandle = encodeReplyHandle({
      w: session.sessionWebhook,
      e: session.sessionWebhookExpiredTime,
      c: 'cid1',
    });
    await m.sendText({ kind: 'chat', id: 'cid1' }, '@张华 请提交心得', {
      idempotencyKey: key(1),
      replyHandle,
      mentions: [{ id: 'm-zhang', name: '张华' }],
    });
    expect(fake.webhookMessages).toHaveLength(1);
    expect(fake.webhookMessages[0]!.body).toEqual({
      msgtype: 'text',
      text: { content: '@m-zhang 请提交心得' },
      at: { atUserIds: ['m-zhang'], isAtAll: false },
    });
    // Not for another chat, and not in its last minute.
    await m.sendText({ kind: 'chat', id: 'cid2' }, '别的群', { idempotencyKey: key(2), replyHandle });
    clock.advance(5_400_000 - 30_000);
    await m.sendText({ kind: 'chat', id: 'cid1' }, '过期了', { idempotencyKey: key(3), replyHandle });
    expect(fake.webhookMessages).toHaveLength(1);
    expect(fake.groupMessages.map((g) => [g.openConversationId, g.msgParam.content])).toEqual([
      ['cid2', '别的群'],
      ['cid1', '过期了'],
    ]);
    expect(calls.filter((c) => c.api === 'webhook.session')).toHaveLength(1);
  });

  it('delivers cards through createAndDeliver with the outbox id as outTrackId, idempotently', async () => {
    const m = messenger();
    const ref = await m.sendCard({ kind: 'chat', id: 'cid1' }, card, {
      idempotencyKey: key(7),
      mentions: [{ id: 'm-li', name: '李明' }],
    });
    expect(ref.platformMessageId).toBe(key(7));
    const sent = fake.cards.get(key(7))!;
    expect(sent.openSpaceId).toBe('dtv1.card//IM_GROUP.cid1');
    expect(sent.atUserIds).toEqual({ 'm-li': '李明' });
    expect(JSON.parse(sent.cardParamMap.buttons!)).toHaveLength(1);
    // The multiple choice cannot be a button: it is listed as a text command.
    expect(sent.cardParamMap.body1).toContain('按 0000 2 A B');
    // A retry after a lost response does not fail.
    await m.sendCard({ kind: 'chat', id: 'cid1' }, card, { idempotencyKey: key(7) });
    // Private cards go to the robot chat of the member.
    await m.sendCard({ kind: 'user', id: 'm-li' }, card, { idempotencyKey: key(8) });
    expect(fake.cards.get(key(8))!.openSpaceId).toBe('dtv1.card//IM_ROBOT.m-li');
    await m.updateCard({ platformMessageId: key(7), target: { kind: 'chat', id: 'cid1' } }, card, {
      idempotencyKey: key(9),
    });
    expect(fake.cards.get(key(7))!.updates).toBe(1);
    const missing = (await m
      .updateCard({ platformMessageId: key(99), target: { kind: 'chat', id: 'cid1' } }, card, {
        idempotencyKey: key(10),
      })
      .catch((e: unknown) => e)) as DeliveryError;
    expect(missing.kind).toBe('permanent');
  });

  it('without a template sends cards as markdown with every action as a text command, and posts updates anew', async () => {
    const m = messenger({ template: false });
    const ref = await m.sendCard({ kind: 'chat', id: 'cid1' }, card, {
      idempotencyKey: 'abcd1234-0000-4000-8000-000000000000',
    });
    expect(fake.cards.size).toBe(0);
    const md = fake.groupMessages[0]!;
    expect(md.msgKey).toBe('sampleMarkdown');
    expect(md.msgParam.text).toContain('签到：按 abcd 1');
    expect(md.msgParam.text).toContain('评价：按 abcd 2 A B');
    await m.updateCard({ platformMessageId: ref.platformMessageId, target: { kind: 'chat', id: 'ignored' } }, card, {
      idempotencyKey: key(2),
    });
    expect(fake.groupMessages[1]!.openConversationId).toBe('cid1');
    expect(fake.groupMessages[1]!.msgParam.title).toBe('签到（已更新）');
    expect(fake.groupMessages[1]!.msgParam.text).toContain('按 abcd 1');
  });

  it('tells secretaries when the robot is no longer in a group', async () => {
    fake.removeFromGroup('cid-gone');
    const m = messenger();
    for (const send of [
      () => m.sendText({ kind: 'chat', id: 'cid-gone' }, '你好', { idempotencyKey: key(1) }),
      () => m.sendCard({ kind: 'chat', id: 'cid-gone' }, card, { idempotencyKey: key(2) }),
    ]) {
      const err = (await send().catch((e: unknown) => e)) as DeliveryError;
      expect(err.kind).toBe('permanent');
      expect(err.reasonKey).toBe('dingtalk.error.chat_gone');
    }
  });
});
