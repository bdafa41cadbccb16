import { afterEach, describe, expect, it } from 'vitest';
import { encryptFeishu } from '../../src/platforms/feishu/crypto.ts';
import { exceedsJsonLimits, BODY_LIMITS, CARD_VALUE_LIMITS } from '../../src/platforms/json-bounds.ts';
import { createDingTalkHarness, type DingTalkHarness } from '../helpers/fake-dingtalk-harness.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';
import { CHAT, ENCRYPT_KEY, PEOPLE, startFeishuBot, type FeishuBot } from '../helpers/fake-feishu-setup.ts';

/**
 * Finding: a deeply nested card value in a correctly signed request gave a
 * 500 (JSON.stringify RangeError). Payloads and card values are bounded in
 * depth and size on every inbound path; beyond the bounds the answer is a
 * 4xx, the event key is logged, and nothing is written.
 */
const DEPTH = 100_000;
/** JSON text nested DEPTH arrays deep (JSON.stringify could not even write it). */
const deep = `${'['.repeat(DEPTH)}${']'.repeat(DEPTH)}`;
/** `plain` serialised with the deep value spliced in where the marker was. */
const withDeep = (plain: unknown) => JSON.stringify(plain).replace('"__DEEP__"', deep);

describe('bounded payloads', () => {
  let feishu: FeishuBot | undefined;
  let dingtalk: DingTalkHarness | undefined;
  let h: Harness | undefined;
  afterEach(async () => {
    await feishu?.close();
    await dingtalk?.close();
    await h?.close();
    feishu = dingtalk = h = undefined;
  });

  it('limits: depth and size are measured without recursing', () => {
    expect(exceedsJsonLimits(JSON.parse(deep), BODY_LIMITS)).toBe('too deep');
    expect(exceedsJsonLimits({ v: 1, r: 'round', p: 3, c: ['A', 'B'] }, CARD_VALUE_LIMITS)).toBeUndefined();
    expect(
      exceedsJsonLimits(
        Array.from({ length: 600 }, (_, i) => i),
        CARD_VALUE_LIMITS,
      ),
    ).toBe('too large');
    expect(exceedsJsonLimits(null, CARD_VALUE_LIMITS)).toBeUndefined();
  });

  it('Feishu: a signed card click whose value is nested 100,000 deep gets a 400 and writes nothing', async () => {
    feishu = await startFeishuBot();
    const db = feishu.h.shuxiang.db.prisma;
    const before = { inbound: await db.inboundEvent.count(), outbox: await db.outboxMessage.count() };
    const click = feishu.pusher.cardClick({
      operatorOpenId: PEOPLE.li.open_id,
      messageId: 'om_any',
      chatId: CHAT,
      value: { a: 'quiz.answer', p: { v: 1, x: '__DEEP__' }, s: 'x'.repeat(22) },
    });
    const body = JSON.stringify({ encrypt: encryptFeishu(ENCRYPT_KEY, withDeep(click)) });
    const res = await feishu.post({
      headers: { 'content-type': 'application/json; charset=utf-8', ...feishu.pusher.sign(body) },
      body,
    });
    expect(res.status).toBe(400);
    await feishu.settle();
    expect({ inbound: await db.inboundEvent.count(), outbox: await db.outboxMessage.count() }).toEqual(before);
  });

  it('Feishu: a value within the body limit but deeper than a card value may be is refused too', async () => {
    feishu = await startFeishuBot();
    const nested = JSON.parse(`${'['.repeat(20)}${']'.repeat(20)}`) as unknown;
    const res = await feishu.post(
      feishu.pusher.push(
        feishu.pusher.cardClick({
          operatorOpenId: PEOPLE.li.open_id,
          messageId: 'om_any',
          chatId: CHAT,
          value: { a: 'quiz.answer', p: { v: 1, x: nested }, s: 'x'.repeat(22) },
        }),
      ),
    );
    expect(res.status).toBe(400);
  });

  it('DingTalk: a signed card callback nested 100,000 deep gets a 400 before its signature is spent', async () => {
    dingtalk = await createDingTalkHarness({ mode: 'webhook', template: true });
    const db = dingtalk.sx.db.prisma;
    const before = await db.inboundEvent.count();
    const res = await dingtalk.postCard(withDeep({ outTrackId: 'x', userId: 'u1', content: '{}', extra: '__DEEP__' }));
    expect(res.status).toBe(400);
    expect(await db.inboundEvent.count()).toBe(before);
  });

  it('the sandbox: a click whose payload is nested too deeply gets a 400', async () => {
    h = await createHarness();
    const res = await h.shuxiang.app.request('/sandbox/api/actions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: withDeep({ chatId: 'c', userId: 'u', messageId: 'm', actionId: 'quiz.answer', payload: { x: '__DEEP__' } }),
    });
    expect(res.status).toBe(400);
    const shallow = JSON.parse(`${'['.repeat(20)}${']'.repeat(20)}`) as unknown;
    const res2 = await h.shuxiang.app.request('/sandbox/api/actions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ chatId: 'c', userId: 'u', messageId: 'm', actionId: 'quiz.answer', payload: { shallow } }),
    });
    expect(res2.status).toBe(400);
    expect(await res2.text()).toContain('nested too deeply');
  });
});
