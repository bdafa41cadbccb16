/* eslint-disable @typescript-eslint/no-explicit-any -- fixtures and card JSON are edited freely in tests */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { encryptFeishu, feishuSignature } from '../../src/platforms/feishu/crypto.ts';

/**
 * Builds pushes exactly as Feishu sends them: the plaintext envelope (from a
 * fixture in the real shape), AES-256-CBC encrypted into {"encrypt": …} when
 * an Encrypt Key is set, and signed over the raw body with the
 * X-Lark-Request-Timestamp/Nonce/Signature headers.
 */
const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/feishu');

export function fixture(name: string): Record<string, any> {
  return JSON.parse(readFileSync(path.join(FIXTURES, `${name}.json`), 'utf8')) as Record<string, any>;
}

export interface PushOptions {
  appId: string;
  encryptKey?: string;
  verificationToken?: string;
  /** The sender's clock (signature timestamps). */
  now?: () => Date;
}

export interface Push {
  headers: Record<string, string>;
  body: string;
}

export function createFeishuPusher(opts: PushOptions) {
  const now = opts.now ?? (() => new Date());
  let seq = 0;
  const unique = () =>
    `${Date.now().toString(16)}${(seq++).toString(16).padStart(6, '0')}${randomBytes(6).toString('hex')}`;

  /** A v2 envelope from a fixture with our app id, token and a fresh event id. */
  function envelope(
    name: string,
    edit?: (env: { header: Record<string, unknown>; event: Record<string, any> }) => void,
  ) {
    const env = fixture(name) as { schema: string; header: Record<string, unknown>; event: Record<string, any> };
    env.header.app_id = opts.appId;
    env.header.token = opts.verificationToken ?? 'no-token-configured';
    env.header.event_id = unique();
    edit?.(env);
    return env;
  }

  function sign(body: string, o: { timestamp?: string; nonce?: string; signWith?: string } = {}) {
    const timestamp = o.timestamp ?? String(Math.floor(now().getTime() / 1000));
    const nonce = o.nonce ?? randomBytes(8).toString('hex');
    const key = o.signWith ?? opts.encryptKey ?? '';
    return {
      'x-lark-request-timestamp': timestamp,
      'x-lark-request-nonce': nonce,
      'x-lark-signature': feishuSignature(timestamp, nonce, key, body),
    };
  }

  /**
   * The HTTP request Feishu would make for `plain`. `unsigned` drops the
   * signature headers (as for URL verification); `encryptWith` uses another key.
   */
  function push(
    plain: unknown,
    o: { unsigned?: boolean; timestamp?: string; encryptWith?: string; signWith?: string } = {},
  ): Push {
    const json = JSON.stringify(plain);
    const key = o.encryptWith ?? opts.encryptKey;
    const body = key ? JSON.stringify({ encrypt: encryptFeishu(key, json) }) : json;
    const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
    if (key && !o.unsigned) Object.assign(headers, sign(body, o));
    return { headers, body };
  }

  /** A card.action.trigger callback for a button of a card we sent, as the Feishu client posts it. */
  function cardClick(input: {
    operatorOpenId: string;
    messageId: string;
    chatId: string;
    value: unknown;
    formValue?: Record<string, unknown>;
    cardToken?: string;
  }) {
    return envelope('card.action.trigger', (env) => {
      env.event.operator.open_id = input.operatorOpenId;
      env.event.context.open_message_id = input.messageId;
      env.event.context.open_chat_id = input.chatId;
      env.event.action.value = input.value;
      if (input.formValue) {
        env.event.action.form_value = input.formValue;
        env.event.action.tag = 'button';
        env.event.action.name = 'submit_0';
      }
      env.event.token = input.cardToken ?? `c-${randomBytes(16).toString('hex')}`;
    });
  }

  /** A member's text message: `@_user_1` placeholders for the bot when `atBot`. */
  function textMessage(input: {
    senderOpenId: string;
    chatId: string;
    text: string;
    botOpenId: string;
    chatType?: 'group' | 'p2p';
    atBot?: boolean;
    messageId?: string;
    others?: { openId: string; name: string }[];
  }) {
    return envelope('im.message.receive_v1.group', (env) => {
      const m = env.event.message;
      env.event.sender.sender_id.open_id = input.senderOpenId;
      m.message_id = input.messageId ?? `om_${unique()}`;
      m.chat_id = input.chatId;
      m.chat_type = input.chatType ?? 'group';
      const mentions: unknown[] = [];
      let text = input.text;
      (input.others ?? []).forEach((o, i) => {
        const key = `@_user_${i + 2}`;
        text = text.replace(`@${o.name}`, key);
        mentions.push({ key, id: { open_id: o.openId, union_id: '', user_id: '' }, name: o.name, tenant_key: 't' });
      });
      if (input.atBot !== false) {
        text = `@_user_1 ${text}`;
        mentions.unshift({
          key: '@_user_1',
          id: { open_id: input.botOpenId, union_id: '', user_id: '' },
          name: '书香',
        });
      }
      m.content = JSON.stringify({ text });
      m.mentions = mentions;
    });
  }

  return { envelope, push, sign, cardClick, textMessage };
}

export type FeishuPusher = ReturnType<typeof createFeishuPusher>;
