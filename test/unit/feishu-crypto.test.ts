import { createHash } from 'node:crypto';
import * as lark from '@larksuiteoapi/node-sdk';
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  createValueSealer,
  decryptFeishu,
  encryptFeishu,
  feishuSignature,
  safeEqual,
} from '../../src/platforms/feishu/crypto.ts';
import { parseMessageText, parseRequestTimestamp, plainText } from '../../src/platforms/feishu/parse.ts';
import { fixture } from '../helpers/fake-feishu-push.ts';

describe('Feishu encryption', () => {
  it('decrypts the documented test vector', () => {
    expect(decryptFeishu('test key', 'P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk=')).toBe('hello world');
  });

  it('encrypts what the SDK AESCipher decrypts, and decrypts what AESCipher would (both directions)', () => {
    const plain = JSON.stringify(fixture('card.action.trigger'));
    const wire = encryptFeishu('s3cret-κλειδί', plain);
    expect(new lark.AESCipher('s3cret-κλειδί').decrypt(wire)).toBe(plain);
    expect(decryptFeishu('s3cret-κλειδί', wire)).toBe(plain);
    // a fresh IV every time
    expect(encryptFeishu('k', plain)).not.toBe(encryptFeishu('k', plain));
  });

  it('refuses ciphertext of the wrong length or key', () => {
    expect(() => decryptFeishu('k', 'AAAA')).toThrow();
    expect(() => decryptFeishu('other', encryptFeishu('k', 'hello'))).toThrow();
  });

  it('signs timestamp + nonce + key + raw body with sha256', () => {
    // Independent of our helper: the formula from the docs, spelled out.
    const body = '{"encrypt":"abc"}';
    const expected = createHash('sha256').update(`1700000000nonce1key${body}`).digest('hex');
    expect(feishuSignature('1700000000', 'nonce1', 'key', body)).toBe(expected);
    // the raw bytes count: re-serialised JSON with a space signs differently
    expect(feishuSignature('1700000000', 'nonce1', 'key', '{"encrypt": "abc"}')).not.toBe(expected);
  });

  it('compares in constant time and treats different lengths as different', () => {
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual('abc', 'abd')).toBe(false);
    expect(safeEqual('abc', 'abcd')).toBe(false);
  });

  it('seals button values so that an edited action or payload no longer verifies', () => {
    const sealer = createValueSealer('app-secret');
    const seal = sealer.seal('quiz.answer', { v: 1, q: 'q1', o: 'A' }, 'chat:oc_a');
    expect(sealer.verify('quiz.answer', { o: 'A', q: 'q1', v: 1 }, seal, 'chat:oc_a')).toBe(true); // key order is irrelevant
    expect(sealer.verify('quiz.answer', { v: 1, q: 'q2', o: 'A' }, seal, 'chat:oc_a')).toBe(false);
    expect(sealer.verify('quiz.other', { v: 1, q: 'q1', o: 'A' }, seal, 'chat:oc_a')).toBe(false);
    expect(sealer.verify('quiz.answer', { v: 1, q: 'q1', o: 'A' }, seal, 'chat:oc_b')).toBe(false); // another chat
    expect(createValueSealer('another-app').verify('quiz.answer', { v: 1, q: 'q1', o: 'A' }, seal, 'chat:oc_a')).toBe(
      false,
    );
    expect(canonicalJson({ b: [1, { d: 1, c: 2 }], a: null })).toBe('{"a":null,"b":[1,{"c":2,"d":1}]}');
  });
});

describe('Feishu message parsing', () => {
  const BOT = 'ou_bot0000000000000000000000000001';

  it('strips the bot mention from a group text and reports it', () => {
    const env = fixture('im.message.receive_v1.group');
    const parsed = parseMessageText(env.event, BOT);
    expect(parsed).toEqual({ text: 'help', mentions: [], mentionedBot: true });
  });

  it('keeps other mentions as @Name with their open_id, in posts too', () => {
    const env = fixture('im.message.receive_v1.post');
    const parsed = parseMessageText(env.event, BOT);
    expect(parsed.mentionedBot).toBe(true);
    expect(parsed.text).toBe('管理员 添加 @李明');
    expect(parsed.mentions).toEqual([{ id: 'ou_li00000000000000000000000000002', name: '李明' }]);
  });

  it('does not count @all as addressing the bot, and a mention of someone else is not the bot', () => {
    const env = fixture('im.message.receive_v1.group');
    env.event.message.content = JSON.stringify({ text: '@_all 明天开会' });
    expect(parseMessageText(env.event, BOT)).toMatchObject({ text: '@所有人 明天开会', mentionedBot: false });
    expect(parseMessageText(fixture('im.message.receive_v1.group').event, 'ou_another_bot').mentionedBot).toBe(false);
  });

  it('reads a private text as is', () => {
    const env = fixture('im.message.receive_v1.p2p');
    expect(parseMessageText(env.event, BOT)).toEqual({ text: '我是谁', mentions: [], mentionedBot: false });
  });

  it('gives no text for images, stickers and broken content', () => {
    expect(plainText('image', '{"image_key":"img_x"}')).toBe('');
    expect(plainText('text', 'not json')).toBe('');
  });

  it('reads both request timestamp forms seen in the wild', () => {
    expect(parseRequestTimestamp('1700000000')).toBe(1_700_000_000_000);
    expect(parseRequestTimestamp('2026-10-04 18:23:46.05 +0800 CST m=+1.0')).toBe(
      Date.parse('2026-10-04T10:23:46.05Z'),
    );
    expect(parseRequestTimestamp('soon')).toBeUndefined();
  });
});
