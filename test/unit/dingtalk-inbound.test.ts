import { describe, expect, it } from 'vitest';
import { parseCardCallback, parseRobotMessage } from '../../src/platforms/dingtalk/parse.ts';
import {
  robotSignature,
  verifyCardCallbackSignature,
  verifyRobotSignature,
} from '../../src/platforms/dingtalk/verify.ts';
import { backoffDelay } from '../../src/platforms/dingtalk/stream.ts';

const SECRET = 'this-is-the-app-secret';
const now = Date.UTC(2026, 2, 2, 1, 0, 0);

describe('DingTalk signatures', () => {
  it('computes the documented robot signature: Base64(HmacSHA256(secret, timestamp + "\\n" + secret))', () => {
    // Cross-checked with Python's hmac module, an independent implementation.
    const sign = robotSignature('1577262236757', 'testSecret');
    expect(sign).toBe('0431bROcy3P4TvkuAWQd26NTs2mezxntsOPivdEPEaI=');
  });

  it('accepts a fresh signature and refuses a wrong, stale or missing one', () => {
    const ts = String(now - 59 * 60_000);
    expect(verifyRobotSignature({ timestamp: ts, sign: robotSignature(ts, SECRET) }, SECRET, now)).toBeUndefined();
    expect(verifyRobotSignature({ timestamp: ts, sign: robotSignature(ts, 'other') }, SECRET, now)).toBe('mismatch');
    const old = String(now - 61 * 60_000);
    expect(verifyRobotSignature({ timestamp: old, sign: robotSignature(old, SECRET) }, SECRET, now)).toBe('stale');
    expect(verifyRobotSignature({ timestamp: ts }, SECRET, now)).toBe('missing');
    expect(verifyRobotSignature({ timestamp: 'abc', sign: 'x' }, SECRET, now)).toBe('missing');
    expect(verifyRobotSignature({ timestamp: ts, sign: 'short' }, SECRET, now)).toBe('mismatch');
  });

  it('checks the card callback signature: Base64(HmacSHA256(apiSecret, timestamp))', () => {
    const ts = String(now);
    // Cross-checked with Python's hmac module.
    const good = 'EsDZfiaA4Qtl/x6nsTo8WVjEqfVvLfpkUAvSSOUI4aA=';
    expect(verifyCardCallbackSignature({ timestamp: ts, signature: good }, SECRET, now)).toBeUndefined();
    const bad = Buffer.from('nope').toString('base64');
    expect(verifyCardCallbackSignature({ timestamp: ts, signature: bad }, SECRET, now)).toBe('mismatch');
  });
});

describe('DingTalk robot messages', () => {
  const base = {
    msgtype: 'text',
    msgId: 'msg1',
    conversationType: '2',
    conversationId: 'cid1',
    conversationTitle: '学习一组',
    senderStaffId: 'm-li',
    senderNick: '李明',
    chatbotCorpId: 'corp1',
    chatbotUserId: 'bot',
    isInAtList: true,
    sessionWebhook: 'https://oapi.dingtalk.com/robot/sendBySession?session=s',
    sessionWebhookExpiredTime: now + 5_400_000,
  };
  const hosts = ['oapi.dingtalk.com'];

  it('trims the leading space and pairs @-names with the mentioned staff ids, leaving the bot out', () => {
    const r = parseRobotMessage(
      {
        ...base,
        text: { content: ' 管理员 添加 @张华 @陈静 ' },
        atUsers: [
          { dingtalkId: 'bot' },
          { dingtalkId: 'x', staffId: 'm-zhang' },
          { dingtalkId: 'y', staffId: 'm-chen' },
        ],
      },
      new Date(now),
      hosts,
    );
    if (!r.ok) throw new Error(r.reason);
    expect(r.event.text).toBe('管理员 添加 @张华 @陈静');
    expect(r.event.mentions).toEqual([
      { id: 'm-zhang', name: '张华' },
      { id: 'm-chen', name: '陈静' },
    ]);
    expect(r.event).toMatchObject({
      tenant: 'corp1',
      eventKey: 'msg1',
      chat: { id: 'cid1', kind: 'group', title: '学习一组' },
      sender: { id: 'm-li', name: '李明' },
      mentionedBot: true,
    });
    expect(JSON.parse(r.event.replyHandle!)).toEqual({
      w: base.sessionWebhook,
      e: base.sessionWebhookExpiredTime,
      c: 'cid1',
    });
  });

  it('reads rich text and private chats', () => {
    const r = parseRobotMessage(
      {
        ...base,
        msgtype: 'richText',
        conversationType: '1',
        content: { richText: [{ text: '签到' }, { pictureDownloadCode: 'p' }] },
      },
      new Date(now),
      hosts,
    );
    if (!r.ok) throw new Error(r.reason);
    expect(r.event.text).toBe('签到');
    expect(r.event.chat.kind).toBe('direct');
    expect(JSON.parse(r.event.replyHandle!).u).toBe('m-li');
  });

  it('refuses payloads it cannot trust or address', () => {
    expect(parseRobotMessage({ ...base, msgId: undefined }, new Date(now), hosts).ok).toBe(false);
    expect(parseRobotMessage({ ...base, senderStaffId: undefined }, new Date(now), hosts).ok).toBe(false);
    const elsewhere = parseRobotMessage(
      { ...base, text: { content: 'x' }, sessionWebhook: 'https://evil.example/robot' },
      new Date(now),
      hosts,
    );
    expect(elsewhere.ok && elsewhere.event.replyHandle).toBeUndefined();
    const garbled = parseRobotMessage(
      { ...base, text: { content: 'x' }, sessionWebhook: 'not a url' },
      new Date(now),
      hosts,
    );
    expect(garbled.ok).toBe(true);
    expect(garbled.ok && garbled.event.replyHandle).toBeUndefined();
  });
});

describe('DingTalk card callbacks', () => {
  it('finds the params under content.cardPrivateData, or under value.params', () => {
    const a = parseCardCallback({
      outTrackId: 't',
      userId: 'u',
      content: JSON.stringify({ cardPrivateData: { actionIds: ['b'], params: { d: '1', s: '2' } } }),
    });
    const b = parseCardCallback({
      outTrackId: 't',
      userId: 'u',
      value: JSON.stringify({ params: { d: '1', s: '2' } }),
    });
    for (const r of [a, b]) {
      if (!r.ok) throw new Error(r.reason);
      expect(r.click.params).toEqual({ d: '1', s: '2' });
    }
    expect(parseCardCallback({ outTrackId: 't', userId: 'u', content: '{broken' }).ok).toBe(false);
    expect(parseCardCallback({ outTrackId: 't' }).ok).toBe(false);
  });
});

describe('stream reconnect backoff', () => {
  it('grows exponentially with full jitter and stays under the cap', () => {
    expect(backoffDelay(0, 1000, 60_000, () => 0)).toBe(500);
    expect(backoffDelay(3, 1000, 60_000, () => 1)).toBe(8000);
    expect(backoffDelay(10, 1000, 60_000, () => 1)).toBe(60_000);
    expect(backoffDelay(50, 1000, 60_000, () => 0.5)).toBe(45_000);
  });
});
