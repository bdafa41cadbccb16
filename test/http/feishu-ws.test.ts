import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BOT, CHAT, PEOPLE, startFeishuBot, type FeishuBot } from '../helpers/fake-feishu-setup.ts';
import { startFakeFeishuWs, type FakeFeishuWs } from '../helpers/fake-feishu-ws.ts';

/**
 * Long-connection mode: the SDK's WSClient decodes each frame and calls
 * `eventDispatcher.invoke(envelope, {needCheck: false})`, acking with what it
 * returns. We drive that same dispatcher with plaintext envelopes in the real
 * shapes (the protobuf socket itself is the SDK's business).
 */
describe('Feishu long-connection mode (FEISHU_MODE=ws)', () => {
  let bot: FeishuBot;
  beforeEach(async () => {
    bot = await startFeishuBot({ encrypt: false, token: false, env: { FEISHU_MODE: 'ws' } });
  });
  afterEach(async () => {
    await bot.close();
  });

  const invoke = (envelope: unknown) =>
    bot.h.shuxiang.feishu!.wsDispatcher.invoke(envelope, { needCheck: false }) as Promise<Record<string, unknown>>;

  it('has no webhook route to attack (nothing is pushed over HTTP)', async () => {
    const res = await bot.post({ headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(404);
  });

  it('feeds messages and card clicks from the socket to the same dispatcher', async () => {
    const ack = await invoke(
      bot.pusher.textMessage({ senderOpenId: PEOPLE.li.open_id, chatId: CHAT, text: 'help', botOpenId: BOT }),
    );
    expect(ack).toEqual({});
    await bot.settle();
    const [card] = bot.fake.sent({ chat_id: CHAT, msg_type: 'interactive' });
    expect(card!.content).toContain('书香 · 命令列表');
    const value = JSON.parse(card!.content).body.elements.at(-1).columns[0].elements[0].behaviors[0].value;
    const toast = await invoke(
      bot.pusher.cardClick({ operatorOpenId: PEOPLE.zhang.open_id, messageId: card!.message_id, chatId: CHAT, value }),
    );
    expect(toast).toMatchObject({ toast: { type: 'info' } });
    expect(String((toast.toast as { content: string }).content)).toContain('张华');
  });

  it('onboards a group the bot was added to', async () => {
    await invoke(
      bot.pusher.envelope('im.chat.member.bot.added_v1', (e) => {
        e.event.chat_id = CHAT;
        e.event.operator_id.open_id = PEOPLE.wang.open_id;
      }),
    );
    await bot.settle();
    expect(bot.fake.sent({ chat_id: CHAT })[0]!.content).toContain('书香学习助手已加入本群');
  });
});

describe('Feishu long connection over a real socket (the SDK WSClient against a fake gateway)', () => {
  let bot: FeishuBot;
  let gateway: FakeFeishuWs;
  beforeEach(async () => {
    bot = await startFeishuBot({ encrypt: false, token: false, env: { FEISHU_MODE: 'ws' } });
    gateway = await startFakeFeishuWs(bot.fake);
    await bot.h.shuxiang.feishu!.start();
    await gateway.connected();
  });
  afterEach(async () => {
    await bot.close();
    await gateway.close();
  });

  it('receives a message frame and acks a card click with the toast', async () => {
    const ack = await gateway.push(
      bot.pusher.textMessage({ senderOpenId: PEOPLE.li.open_id, chatId: CHAT, text: '帮助', botOpenId: BOT }),
    );
    expect(ack.code).toBe(200);
    await bot.settle();
    const [card] = bot.fake.sent({ chat_id: CHAT, msg_type: 'interactive' });
    expect(card!.content).toContain('书香 · 命令列表');
    const value = JSON.parse(card!.content).body.elements.at(-1).columns[0].elements[0].behaviors[0].value;
    const click = await gateway.push(
      bot.pusher.cardClick({ operatorOpenId: PEOPLE.li.open_id, messageId: card!.message_id, chatId: CHAT, value }),
    );
    expect(click.code).toBe(200);
    expect(click.data).toMatchObject({ toast: { type: 'info' } });
    expect(JSON.stringify(click.data)).toContain('李明');
  });
});
