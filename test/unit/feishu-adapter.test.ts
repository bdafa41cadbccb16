import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/lib/clock.ts';
import { openDatabase, type Database } from '../../src/lib/db.ts';
import { createSilentLogger } from '../../src/lib/logger.ts';
import { createMigrator } from '../../src/lib/migrator.ts';
import { createFeishuAdapter, type FeishuAdapter } from '../../src/platforms/feishu/adapter.ts';
import { createValueSealer } from '../../src/platforms/feishu/crypto.ts';
import type { AckReply, ActionEvent, ChatJoinedEvent, EventSink, MessageEvent } from '../../src/platforms/types.ts';
import { createSqliteTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { startFakeFeishu, type FakeFeishu } from '../helpers/fake-feishu.ts';
import { createFeishuPusher } from '../helpers/fake-feishu-push.ts';

/** The adapter alone, with a recording sink: what it hands the dispatcher, and when it answers. */
const APP_ID = 'cli_adapter_unit';
const SECRET = 'adapter-secret';
const KEY = 'adapter-key';
const CHAT = 'oc_adapter_chat';

describe('Feishu adapter → EventSink', () => {
  let fake: FakeFeishu;
  let test: TestDatabase;
  let database: Database;
  let adapter: FeishuAdapter;
  let seen: (MessageEvent | ActionEvent | ChatJoinedEvent)[];
  let answer: (e: ActionEvent) => Promise<AckReply>;
  const clock = createManualClock('2026-03-02T01:00:00Z');
  const pusher = createFeishuPusher({ appId: APP_ID, encryptKey: KEY, now: () => clock.now() });
  const sealer = createValueSealer(SECRET);

  beforeEach(async () => {
    fake = await startFakeFeishu({ appId: APP_ID, appSecret: SECRET, botOpenId: 'ou_bot' });
    fake.addChat({ chat_id: CHAT, members: [{ open_id: 'ou_li', name: '李明' }] });
    test = await createSqliteTestDatabase();
    database = await openDatabase(test.url);
    await createMigrator(database, undefined).migrate();
    seen = [];
    answer = async () => ({ toast: { kind: 'success', text: '好' } });
    const sink: EventSink = {
      handleMessage: async (e) => void seen.push(e),
      handleAction: async (e) => {
        seen.push(e);
        return answer(e);
      },
      handleChatJoined: async (e) => void seen.push(e),
    };
    adapter = createFeishuAdapter({
      config: { appId: APP_ID, appSecret: SECRET, encryptKey: KEY, mode: 'webhook', domain: fake.url },
      db: database.prisma,
      clock,
      log: createSilentLogger(),
      sink,
      options: { ackDeadlineMs: 100 },
    });
  });
  afterEach(async () => {
    await adapter.stop();
    await database.close();
    await test.drop();
    await fake.close();
  });

  const post = (plain: unknown) => {
    const p = pusher.push(plain);
    return adapter.routes.request('/feishu/webhook', { method: 'POST', headers: p.headers, body: p.body });
  };

  async function sentCard(platformMessageId: string, targetKind = 'chat', targetId = CHAT) {
    await database.prisma.outboxMessage.create({
      data: {
        id: `ours-${platformMessageId}`,
        platform: 'feishu',
        targetKind,
        targetId,
        kind: 'card',
        body: '{}',
        status: 'sent',
        platformMessageId,
        nextAttemptAt: clock.now(),
        createdAt: clock.now(),
      },
    });
  }

  const value = (a: string, p: Record<string, unknown>, binding = `chat:${CHAT}`) => ({
    a,
    p,
    s: sealer.seal(a, p, binding),
  });

  it('turns a click into an ActionEvent: our message id, the callback token, the operator, form values', async () => {
    await sentCard('om_1');
    const env = pusher.cardClick({
      operatorOpenId: 'ou_li',
      messageId: 'om_1',
      chatId: CHAT,
      value: value('club.note', { v: 1, s: 's1' }),
      // Named as our renderer names it (form number prefix), handed on without it.
      formValue: { f0_note: '读后感' },
      cardToken: 'c-token-1',
    });
    const res = await post(env);
    expect(await res.json()).toEqual({ toast: { type: 'success', content: '好' } });
    const event = seen[0] as ActionEvent;
    expect(event).toMatchObject({
      type: 'action',
      platform: 'feishu',
      eventKey: env.header.event_id,
      chat: { id: CHAT, kind: 'group' },
      sender: { id: 'ou_li' },
      actionId: 'club.note',
      payload: { v: 1, s: 's1' },
      formValues: { note: '读后感' },
      card: { messageId: 'ours-om_1', updateToken: 'c-token-1' },
    });
  });

  it('a card sent privately is clicked in a direct chat', async () => {
    await sentCard('om_2', 'user', 'ou_li');
    await post(
      pusher.cardClick({
        operatorOpenId: 'ou_li',
        messageId: 'om_2',
        chatId: 'oc_p2p',
        value: value('x.y', {}, 'user:ou_li'),
      }),
    );
    expect((seen[0] as ActionEvent).chat).toEqual({ id: 'oc_p2p', kind: 'direct' });
    // the same private card clicked by someone else (forwarded): refused, the sink never sees it
    const res = await post(
      pusher.cardClick({
        operatorOpenId: 'ou_other',
        messageId: 'om_2',
        chatId: 'oc_x',
        value: value('x.y', {}, 'user:ou_li'),
      }),
    );
    expect(((await res.json()) as { toast: { type: string } }).toast.type).toBe('error');
    expect(seen).toHaveLength(1);
  });

  it('answers an error toast when the click could not be recorded', async () => {
    await sentCard('om_4');
    answer = async () => {
      throw new Error('database is down');
    };
    const res = await post(
      pusher.cardClick({ operatorOpenId: 'ou_li', messageId: 'om_4', chatId: CHAT, value: value('x.y', {}) }),
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ toast: { type: 'error', content: '抱歉，这次操作没有成功，请稍后再点一次。' } });
  });

  it('answers a slow handler before the deadline, then applies its card with the callback token', async () => {
    await sentCard('om_3');
    // The fake must know the message for its callback token to be valid.
    fake.messages.set('om_3', {
      message_id: 'om_3',
      chat_id: CHAT,
      receive_id: CHAT,
      receive_id_type: 'chat_id',
      msg_type: 'interactive',
      content: '{}',
      createdAt: Date.now(),
      patches: 0,
    });
    const token = fake.issueCardToken('om_3');
    answer = () =>
      new Promise((resolve) =>
        setTimeout(
          () =>
            resolve({
              card: {
                header: { title: '已统计', colour: 'green' },
                elements: [{ type: 'markdown', text: '共 12 人作答' }],
              },
            }),
          400,
        ),
      );
    const res = await post(
      pusher.cardClick({
        operatorOpenId: 'ou_li',
        messageId: 'om_3',
        chatId: CHAT,
        value: value('q.tally', {}),
        cardToken: token,
      }),
    );
    expect(await res.json()).toEqual({ toast: { type: 'info', content: '已收到，正在处理，请稍候。' } });
    expect(fake.messages.get('om_3')!.patches).toBe(0); // nothing before the reply
    await adapter.tasks.drain();
    expect(fake.messages.get('om_3')!.content).toContain('共 12 人作答');
    expect(fake.requests.some((r) => r.path === '/open-apis/interactive/v1/card/update')).toBe(true);
  });

  it('turns a group message into a MessageEvent keyed by message_id, with the sender name from the member list', async () => {
    const env = pusher.textMessage({ senderOpenId: 'ou_li', chatId: CHAT, text: '排行榜', botOpenId: 'ou_bot' });
    expect((await post(env)).status).toBe(200);
    await adapter.tasks.drain();
    expect(seen[0]).toMatchObject({
      type: 'message',
      eventKey: env.event.message.message_id,
      chat: { id: CHAT, kind: 'group' },
      sender: { id: 'ou_li', name: '李明', isBot: false },
      text: '排行榜',
      mentionedBot: true,
    });
  });

  it('offers an attached file for download through the SDK', async () => {
    const env = pusher.textMessage({
      senderOpenId: 'ou_li',
      chatId: CHAT,
      text: '',
      botOpenId: 'ou_bot',
      chatType: 'p2p',
    });
    env.event.message.message_type = 'file';
    env.event.message.content = JSON.stringify({ file_key: 'file_v2_x', file_name: '题库.xlsx' });
    fake.files.set(`${env.event.message.message_id}/file_v2_x`, Buffer.from('题干,答案\n1+1,2\n'));
    await post(env);
    await adapter.tasks.drain();
    const event = seen[0] as MessageEvent;
    expect(event.chat.kind).toBe('direct');
    expect(event.files?.map((f) => f.name)).toEqual(['题库.xlsx']);
    expect((await event.files![0]!.read()).toString()).toBe('题干,答案\n1+1,2\n');
  });

  it('hands the bot-added event on as ChatJoinedEvent with the inviter and the group name', async () => {
    await post(
      pusher.envelope('im.chat.member.bot.added_v1', (e) => {
        e.event.chat_id = CHAT;
        e.event.operator_id.open_id = 'ou_li';
      }),
    );
    await adapter.tasks.drain();
    expect(seen[0]).toMatchObject({
      type: 'chat_joined',
      chat: { id: CHAT, kind: 'group', title: '第一党支部学习群' },
      addedBy: { id: 'ou_li', name: '李明' },
    });
  });
});

describe('Feishu adapter configuration', () => {
  it('refuses webhook mode with neither an Encrypt Key nor a Verification Token', () => {
    const sink: EventSink = { handleMessage: async () => {}, handleAction: async () => ({}) };
    expect(() =>
      createFeishuAdapter({
        config: { appId: 'a', appSecret: 'b', mode: 'webhook', domain: 'http://127.0.0.1:9' },
        db: undefined as never,
        clock: createManualClock(),
        log: createSilentLogger(),
        sink,
      }),
    ).toThrow(/FEISHU_ENCRYPT_KEY/);
  });
});
