/* eslint-disable @typescript-eslint/no-explicit-any -- fixtures and card JSON are edited freely in tests */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encryptFeishu } from '../../src/platforms/feishu/crypto.ts';
import { fixture } from '../helpers/fake-feishu-push.ts';
import {
  BOT,
  CHAT,
  ENCRYPT_KEY,
  PEOPLE,
  VERIFICATION_TOKEN,
  startFeishuBot,
  type FeishuBot,
} from '../helpers/fake-feishu-setup.ts';

type CardJson = {
  header: { title: { content: string } };
  body: { elements: Record<string, any>[] };
};

/** Every button in a card JSON 2.0 the fake received, with its callback value. */
function buttons(card: CardJson): { text: string; value: unknown }[] {
  const out: { text: string; value: unknown }[] = [];
  const walk = (els: Record<string, any>[]) => {
    for (const el of els) {
      if (el.tag === 'button') {
        out.push({ text: el.text.content, value: el.behaviors?.find((b: any) => b.type === 'callback')?.value });
      }
      if (Array.isArray(el.elements)) walk(el.elements);
      if (Array.isArray(el.columns)) walk(el.columns);
    }
  };
  walk(card.body.elements);
  return out;
}

async function counts(bot: FeishuBot) {
  const db = bot.h.shuxiang.db.prisma;
  return {
    inbound: await db.inboundEvent.count(),
    outbox: await db.outboxMessage.count(),
    members: await db.member.count(),
  };
}

describe('Feishu webhook: encrypted and signed pushes', () => {
  let bot: FeishuBot;
  beforeEach(async () => {
    bot = await startFeishuBot();
  });
  afterEach(async () => {
    await bot.close();
  });

  async function helpCard() {
    const res = await bot.post(
      bot.pusher.push(
        bot.pusher.textMessage({ senderOpenId: PEOPLE.li.open_id, chatId: CHAT, text: 'help', botOpenId: BOT }),
      ),
    );
    expect(res.status).toBe(200);
    await bot.settle();
    const [msg] = bot.fake.sent({ chat_id: CHAT, msg_type: 'interactive' });
    expect(msg).toBeDefined();
    return { msg: msg!, card: JSON.parse(msg!.content) as CardJson };
  }

  it('answers the encrypted URL verification (no signature) with the challenge', async () => {
    const res = await bot.post(
      bot.pusher.push({ ...fixture('url_verification'), token: VERIFICATION_TOKEN }, { unsigned: true }),
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ challenge: 'ajls384kdjx98XX' });
  });

  it('refuses a URL verification with the wrong verification token', async () => {
    const res = await bot.post(bot.pusher.push({ ...fixture('url_verification'), token: 'guess' }, { unsigned: true }));
    expect(res.status).toBe(401);
  });

  it('answers a member who @-mentions the bot with `help`: a card JSON 2.0 goes to the chat', async () => {
    const { msg, card } = await helpCard();
    expect(msg.receive_id_type).toBe('chat_id');
    expect(card.header.title.content).toBe('书香 · 命令列表');
    expect((card as unknown as { schema: string }).schema).toBe('2.0');
    expect(buttons(card).map((b) => b.text)).toContain('我的身份');
    // the outbox id went out as Feishu's idempotency uuid, and the platform id came back
    const row = await bot.h.shuxiang.db.prisma.outboxMessage.findFirstOrThrow({ where: { kind: 'card' } });
    expect(msg.uuid).toBe(row.id);
    expect(row.platformMessageId).toBe(msg.message_id);
    // the sender was registered under the name from the chat-members API
    const member = await bot.h.shuxiang.db.prisma.member.findFirstOrThrow({
      where: { platformUserId: PEOPLE.li.open_id },
    });
    expect(member.displayName).toBe('李明');
  });

  it('ignores group chatter that does not @ the bot', async () => {
    await bot.post(
      bot.pusher.push(
        bot.pusher.textMessage({
          senderOpenId: PEOPLE.li.open_id,
          chatId: CHAT,
          text: 'help',
          botOpenId: BOT,
          atBot: false,
        }),
      ),
    );
    await bot.settle();
    expect(bot.fake.sent()).toHaveLength(0);
  });

  it('processes a re-pushed message once (dedupe on message_id, not event_id)', async () => {
    const env = bot.pusher.textMessage({
      senderOpenId: PEOPLE.li.open_id,
      chatId: CHAT,
      text: '我是谁',
      botOpenId: BOT,
    });
    expect((await bot.post(bot.pusher.push(env))).status).toBe(200);
    // Feishu's re-push: same message, new event id, new signature
    const again = { ...env, header: { ...env.header, event_id: 'another-event-id' } };
    expect((await bot.post(bot.pusher.push(again))).status).toBe(200);
    await bot.settle();
    expect(bot.fake.sent({ chat_id: CHAT })).toHaveLength(1);
    // One row in the inbox, recorded before the 200; the re-push found it there.
    expect(await bot.h.shuxiang.db.prisma.inboxMessage.count()).toBe(1);
    expect(await bot.h.shuxiang.db.prisma.inboundEvent.count()).toBe(0);
  });

  it('keeps the other mentions with their names and strips the bot mention', async () => {
    await bot.post(
      bot.pusher.push(
        bot.pusher.textMessage({
          senderOpenId: PEOPLE.wang.open_id,
          chatId: CHAT,
          text: '管理员 添加 @李明',
          botOpenId: BOT,
          others: [{ openId: PEOPLE.li.open_id, name: '李明' }],
        }),
      ),
    );
    await bot.settle();
    // 王书记 is no secretary yet, so the bot refuses, naming the role: the command was parsed
    const [reply] = bot.fake.sent({ chat_id: CHAT, msg_type: 'text' });
    expect(JSON.parse(reply!.content).text).toContain('书记');
  });

  describe('bad input: refused, logged, nothing written', () => {
    const message = () =>
      bot.pusher.textMessage({ senderOpenId: PEOPLE.li.open_id, chatId: CHAT, text: 'help', botOpenId: BOT });

    it('a wrong signature', async () => {
      const push = bot.pusher.push(message());
      push.headers['x-lark-signature'] = push.headers['x-lark-signature']!.replace(/^./, (c) =>
        c === 'a' ? 'b' : 'a',
      );
      expect((await bot.post(push)).status).toBe(401);
      await bot.settle();
      expect(await counts(bot)).toEqual({ inbound: 0, outbox: 0, members: 0 });
    });

    it('a missing signature on an event', async () => {
      expect((await bot.post(bot.pusher.push(message(), { unsigned: true }))).status).toBe(401);
    });

    it('a body signed with another key', async () => {
      expect((await bot.post(bot.pusher.push(message(), { signWith: 'not-the-key' }))).status).toBe(401);
    });

    it('a body edited after signing', async () => {
      const push = bot.pusher.push(message());
      const edited = { ...push, body: push.body.replace('{"encrypt":"', '{"encrypt": "') };
      expect((await bot.post(edited)).status).toBe(401);
      await bot.settle();
      expect(await counts(bot)).toEqual({ inbound: 0, outbox: 0, members: 0 });
    });

    it('the wrong verification token inside a correctly signed envelope', async () => {
      const env = message();
      env.header.token = 'stolen-or-guessed';
      expect((await bot.post(bot.pusher.push(env))).status).toBe(401);
      await bot.settle();
      expect(await counts(bot)).toEqual({ inbound: 0, outbox: 0, members: 0 });
    });

    it('an undecryptable body (wrong key), signed', async () => {
      const push = bot.pusher.push(message(), { encryptWith: 'another-key' });
      expect((await bot.post(push)).status).toBe(400);
    });

    it('garbage in place of the ciphertext', async () => {
      const body = JSON.stringify({ encrypt: 'bm90IGEgY2lwaGVydGV4dA==' });
      const push = { headers: { 'content-type': 'application/json', ...bot.pusher.sign(body) }, body };
      expect((await bot.post(push)).status).toBe(400);
    });

    it('a plaintext body although an Encrypt Key is configured', async () => {
      const body = JSON.stringify(message());
      const push = { headers: { 'content-type': 'application/json', ...bot.pusher.sign(body) }, body };
      expect((await bot.post(push)).status).toBe(400);
    });

    it('malformed JSON', async () => {
      expect((await bot.post({ headers: { 'content-type': 'application/json' }, body: '{"encrypt":' })).status).toBe(
        400,
      );
    });

    it('a stale (replayed two hours later) request', async () => {
      const old = String(Math.floor(bot.h.clock.now().getTime() / 1000) - 2 * 3600);
      expect((await bot.post(bot.pusher.push(message(), { timestamp: old }))).status).toBe(401);
      await bot.settle();
      expect(await counts(bot)).toEqual({ inbound: 0, outbox: 0, members: 0 });
    });

    it('an event for another app', async () => {
      const env = message();
      env.header.app_id = 'cli_someone_else';
      expect((await bot.post(bot.pusher.push(env))).status).toBe(403);
    });
  });

  describe('card callbacks', () => {
    it('the operator is the member who clicked: whoami answers with their identity in a toast', async () => {
      const { msg, card } = await helpCard();
      const whoami = buttons(card).find((b) => b.text === '我的身份')!;
      const res = await bot.post(
        bot.pusher.push(
          bot.pusher.cardClick({
            operatorOpenId: PEOPLE.zhang.open_id,
            messageId: msg.message_id,
            chatId: CHAT,
            value: whoami.value,
          }),
        ),
      );
      expect(res.status).toBe(200);
      const body = (await res.json()) as { toast: { type: string; content: string } };
      expect(body.toast.type).toBe('info');
      expect(body.toast.content).toContain('张华');
      expect(body.toast.content).toContain('身份：成员');
    });

    it('a replayed callback (same event id) is answered once', async () => {
      const { msg, card } = await helpCard();
      const env = bot.pusher.cardClick({
        operatorOpenId: PEOPLE.zhang.open_id,
        messageId: msg.message_id,
        chatId: CHAT,
        value: buttons(card)[0]!.value,
      });
      const first = (await (await bot.post(bot.pusher.push(env))).json()) as { toast?: unknown };
      const second = (await (await bot.post(bot.pusher.push(env))).json()) as { toast?: unknown };
      expect(first.toast).toBeDefined();
      expect(second).toEqual({});
    });

    it('a value edited to claim another user or another action is refused and writes nothing', async () => {
      const { msg, card } = await helpCard();
      const before = await counts(bot);
      const value = buttons(card)[0]!.value as { a: string; p: Record<string, unknown>; s: string };
      for (const edited of [
        { ...value, p: { ...value.p, open_id: PEOPLE.wang.open_id } },
        { ...value, a: 'org.admin' },
        { a: value.a, p: value.p },
      ]) {
        const res = await bot.post(
          bot.pusher.push(
            bot.pusher.cardClick({
              operatorOpenId: PEOPLE.zhang.open_id,
              messageId: msg.message_id,
              chatId: CHAT,
              value: edited,
            }),
          ),
        );
        const body = (await res.json()) as { toast: { type: string; content: string } };
        expect(body.toast.type).toBe('error');
      }
      expect(await counts(bot)).toEqual(before);
    });

    it('a click on a card the bot never sent, or from another chat, is refused', async () => {
      const { msg, card } = await helpCard();
      const before = await counts(bot);
      const value = buttons(card)[0]!.value;
      const attempts: [string, string][] = [
        ['om_never_sent', CHAT],
        [msg.message_id, 'oc_another_chat'],
      ];
      for (const [messageId, chatId] of attempts) {
        const res = await bot.post(
          bot.pusher.push(bot.pusher.cardClick({ operatorOpenId: PEOPLE.li.open_id, messageId, chatId, value })),
        );
        expect(((await res.json()) as { toast: { type: string } }).toast.type).toBe('error');
      }
      expect(await counts(bot)).toEqual(before);
    });
  });

  it('onboarding: the bot added to a group registers the chat and posts a welcome card', async () => {
    const env = bot.pusher.envelope('im.chat.member.bot.added_v1', (e) => {
      e.event.chat_id = CHAT;
      e.event.operator_id.open_id = PEOPLE.wang.open_id;
    });
    expect((await bot.post(bot.pusher.push(env))).status).toBe(200);
    expect((await bot.post(bot.pusher.push(env))).status).toBe(200); // re-pushed
    await bot.settle();
    const chat = await bot.h.shuxiang.db.prisma.chat.findFirstOrThrow({ where: { platformChatId: CHAT } });
    expect(chat.title).toBe('第一党支部学习群');
    const cards = bot.fake.sent({ chat_id: CHAT, msg_type: 'interactive' });
    expect(cards).toHaveLength(1);
    const content = cards[0]!.content;
    expect(content).toContain('书香学习助手已加入本群');
    expect(content).toContain('王书记');
    expect(content).toContain(`feishu:${PEOPLE.wang.open_id}`);
  });
});

describe('Feishu webhook: verification token only (no Encrypt Key)', () => {
  let bot: FeishuBot;
  beforeEach(async () => {
    bot = await startFeishuBot({ encrypt: false });
  });
  afterEach(async () => {
    await bot.close();
  });

  it('answers the plain URL verification', async () => {
    const res = await bot.post(bot.pusher.push({ ...fixture('url_verification'), token: VERIFICATION_TOKEN }));
    expect(await res.json()).toEqual({ challenge: 'ajls384kdjx98XX' });
  });

  it('refuses a wrong token and an encrypted body it cannot read', async () => {
    const env = bot.pusher.textMessage({ senderOpenId: PEOPLE.li.open_id, chatId: CHAT, text: 'help', botOpenId: BOT });
    env.header.token = 'wrong';
    expect((await bot.post(bot.pusher.push(env))).status).toBe(401);
    const body = JSON.stringify({ encrypt: encryptFeishu(ENCRYPT_KEY, JSON.stringify(env)) });
    expect((await bot.post({ headers: { 'content-type': 'application/json' }, body })).status).toBe(400);
    await bot.settle();
    expect(await counts(bot)).toEqual({ inbound: 0, outbox: 0, members: 0 });
  });

  it('a plaintext callback whose value was edited to claim another question is refused by the seal', async () => {
    await bot.post(
      bot.pusher.push(
        bot.pusher.textMessage({ senderOpenId: PEOPLE.li.open_id, chatId: CHAT, text: 'help', botOpenId: BOT }),
      ),
    );
    await bot.settle();
    const [msg] = bot.fake.sent({ msg_type: 'interactive' });
    const value = buttons(JSON.parse(msg!.content) as CardJson)[0]!.value as { p: Record<string, unknown> };
    const before = await counts(bot);
    const res = await bot.post(
      bot.pusher.push(
        bot.pusher.cardClick({
          operatorOpenId: PEOPLE.li.open_id,
          messageId: msg!.message_id,
          chatId: CHAT,
          value: { ...value, p: { ...value.p, q: 'another-question' } },
        }),
      ),
    );
    expect(((await res.json()) as { toast: { type: string } }).toast.type).toBe('error');
    expect(await counts(bot)).toEqual(before);
  });
});
