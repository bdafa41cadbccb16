/* eslint-disable @typescript-eslint/no-explicit-any -- fixtures and card JSON are edited freely in tests */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createSystemClock } from '../../src/lib/clock.ts';
import { createLogger, createSilentLogger } from '../../src/lib/logger.ts';
import { createFeishuClient } from '../../src/platforms/feishu/client.ts';
import { createValueSealer } from '../../src/platforms/feishu/crypto.ts';
import { createFeishuMessenger, textWithMentions, type FeishuMessenger } from '../../src/platforms/feishu/messenger.ts';
import { renderFeishuCard } from '../../src/platforms/feishu/render-card.ts';
import { DeliveryError, cardSchema, type Card } from '../../src/platforms/types.ts';
import { startFakeFeishu, type FakeFeishu } from '../helpers/fake-feishu.ts';

const APP = { appId: 'cli_unit', appSecret: 'secret', botOpenId: 'ou_bot' };
const CHAT = 'oc_unit';
const sealer = createValueSealer(APP.appSecret);

const everyElement: Card = cardSchema.parse({
  header: { title: '第 3 题', colour: 'orange' },
  elements: [
    { type: 'markdown', text: '**单选** 党的二十大在哪一年召开？' },
    {
      type: 'fields',
      fields: [
        { label: '题型', value: '单选' },
        { label: '分值', value: '10' },
        { label: '限时', value: '30 秒' },
      ],
    },
    { type: 'divider' },
    {
      type: 'buttons',
      buttons: [
        { text: 'A. 2021', actionId: 'quiz.answer', payload: { v: 1, q: 'q3', o: 'A' } },
        { text: 'B. 2022', style: 'primary', actionId: 'quiz.answer', payload: { v: 1, q: 'q3', o: 'B' } },
      ],
    },
    {
      type: 'choice',
      name: 'picked',
      multiple: true,
      options: [
        { value: 'A', text: '学习' },
        { value: 'B', text: '实践' },
      ],
      submitText: '提交',
      actionId: 'quiz.submit',
      payload: { v: 1, q: 'q4' },
    },
    {
      type: 'form',
      inputs: [{ name: 'note', label: '心得', multiline: true, placeholder: '写下你的体会' }],
      submitText: '提交心得',
      actionId: 'club.note',
      payload: { v: 1, s: 's1' },
    },
    {
      type: 'chart',
      title: '本周答题',
      bars: [
        { label: '办公室', value: 12 },
        { label: '学习科', value: 9 },
      ],
    },
    {
      type: 'table',
      columns: ['姓名', '得分'],
      rows: [
        ['李明', '30'],
        ['张华', '20'],
      ],
    },
    { type: 'note', text: '答题截止：今晚 22:00' },
  ],
});

describe('Feishu card rendering (JSON 2.0)', () => {
  it('renders every neutral element into a shared 2.0 card with sealed callback values', () => {
    const json = renderFeishuCard(everyElement, sealer, { binding: 'chat:oc_1' }) as Record<string, any>;
    expect(json.schema).toBe('2.0');
    expect(json.config.update_multi).toBe(true);
    expect(json.header).toEqual({ title: { tag: 'plain_text', content: '第 3 题' }, template: 'orange' });
    const tags = json.body.elements.map((e: { tag: string }) => e.tag);
    expect(tags).toEqual([
      'markdown',
      'column_set', // fields 1-2
      'column_set', // field 3
      'hr',
      'column_set', // buttons
      'form', // choice
      'form', // text input
      'chart',
      'table',
      'markdown', // note
    ]);
    const button = json.body.elements[4].columns[1].elements[0];
    expect(button.type).toBe('primary');
    const value = button.behaviors[0].value;
    expect(value).toMatchObject({ a: 'quiz.answer', p: { v: 1, q: 'q3', o: 'B' } });
    expect(sealer.verify(value.a, value.p, value.s, 'chat:oc_1')).toBe(true);
    const [choice, form] = [json.body.elements[5], json.body.elements[6]];
    expect(choice.elements[0]).toMatchObject({ tag: 'multi_select_static', name: 'f0_picked' });
    expect(choice.elements[1]).toMatchObject({ form_action_type: 'submit', name: 'submit_0' });
    expect(form.elements[0]).toMatchObject({ tag: 'input', name: 'f1_note', input_type: 'multiline_text' });
    expect(form.elements[1].name).toBe('submit_1');
    expect(json.body.elements[7].chart_spec.data.values).toEqual([
      { label: '办公室', value: 12 },
      { label: '学习科', value: 9 },
    ]);
    expect(json.body.elements[8].rows[0]).toEqual({ c0: '李明', c1: '30' });
  });
});

describe('Feishu link buttons', () => {
  it('renders a link element as a button with an open_url behaviour and no callback value', () => {
    const url = 'https://bot.example.org/files/abcdefghijklmnopqrstuvwx/%E6%88%90%E7%BB%A9.xlsx';
    const json = renderFeishuCard(
      cardSchema.parse({
        header: { title: '成绩表', colour: 'green' },
        elements: [{ type: 'link', text: '下载成绩表（XLSX）', url }],
      }),
      sealer,
      { binding: 'chat:oc_1' },
    ) as Record<string, any>;
    expect(json.body.elements).toEqual([
      {
        tag: 'button',
        text: { tag: 'plain_text', content: '下载成绩表（XLSX）' },
        type: 'primary',
        behaviors: [{ type: 'open_url', default_url: url }],
      },
    ]);
  });
});

describe('textWithMentions', () => {
  it('turns @Name into Feishu at-tags and leads with mentions not in the text', () => {
    expect(
      textWithMentions('已将 @李明 设为书记。', [
        { id: 'ou_li', name: '李明' },
        { id: 'ou_zh', name: '张华' },
      ]),
    ).toBe('<at user_id="ou_zh">张华</at> 已将 <at user_id="ou_li">李明</at> 设为书记。');
    expect(textWithMentions('<at user_id="all"></at> hi', [])).toBe('&lt;at user_id="all">&lt;/at> hi');
  });
});

describe('what the Feishu SDK logs through us', () => {
  it('never writes request bodies: a rejected app secret is not in the log, the failure is', async () => {
    const fake = await startFakeFeishu({ ...APP });
    fake.addChat({ chat_id: CHAT, members: [] });
    const lines: string[] = [];
    const log = createLogger({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
    const wrongSecret = 'not-the-secret-but-still-secret-9f3a';
    const { client } = createFeishuClient({ ...APP, appSecret: wrongSecret, domain: fake.url, log });
    try {
      await client.im.v1.message
        .create({ params: { receive_id_type: 'chat_id' }, data: { receive_id: CHAT, msg_type: 'text', content: '{}' } })
        .catch(() => undefined);
      const all = lines.join('\n');
      expect(all).toContain('10014');
      expect(all).not.toContain(wrongSecret);
    } finally {
      await fake.close();
    }
  });
});

describe('Feishu messenger against the fake OpenAPI (real SDK)', () => {
  let fake: FakeFeishu;
  let messenger: FeishuMessenger;
  beforeEach(async () => {
    fake = await startFakeFeishu({ ...APP });
    fake.addChat({
      chat_id: CHAT,
      members: Array.from({ length: 130 }, (_, i) => ({ open_id: `ou_${i}`, name: `成员${i}` })),
    });
    const { client, forgetToken } = createFeishuClient({ ...APP, domain: fake.url, log: createSilentLogger() });
    messenger = createFeishuMessenger({
      client,
      forgetToken,
      sealer,
      clock: createSystemClock(),
      log: createSilentLogger(),
    });
  });
  afterEach(async () => {
    await fake.close();
  });

  const failure = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (err) {
      return err as DeliveryError;
    }
    throw new Error('expected a failure');
  };

  it('sends every element kind as a card the platform accepts, and text with mentions', async () => {
    const card = await messenger.sendCard({ kind: 'chat', id: CHAT }, everyElement, { idempotencyKey: 'k1' });
    const text = await messenger.sendText({ kind: 'user', id: 'ou_7' }, '你好 @成员7', {
      idempotencyKey: 'k2',
      mentions: [{ id: 'ou_7', name: '成员7' }],
    });
    expect(fake.messages.get(card.platformMessageId)?.msg_type).toBe('interactive');
    const sentText = fake.messages.get(text.platformMessageId)!;
    expect(sentText.receive_id_type).toBe('open_id');
    expect(JSON.parse(sentText.content)).toEqual({ text: '你好 <at user_id="ou_7">成员7</at>' });
    // one tenant token served both sends
    expect(fake.tokensIssued).toBe(1);
  });

  it('sends a card with several forms whose fields share a name (a daily card: one "c" per question)', async () => {
    const form = (p: number) => ({
      type: 'form' as const,
      actionId: 'quiz.answer',
      payload: { v: 1, p },
      submitText: '提交',
      inputs: [{ name: 'c', label: `第${p}题` }],
    });
    const daily = cardSchema.parse({ header: { title: '每日一练', colour: 'blue' }, elements: [form(1), form(2)] });
    const sent = await messenger.sendCard({ kind: 'chat', id: CHAT }, daily, { idempotencyKey: 'k-forms' });
    expect(fake.messages.get(sent.platformMessageId)?.msg_type).toBe('interactive');
  });

  it('passes the idempotency key as uuid, so a retried send does not post twice', async () => {
    const a = await messenger.sendText({ kind: 'chat', id: CHAT }, 'x', { idempotencyKey: 'same-key' });
    const b = await messenger.sendText({ kind: 'chat', id: CHAT }, 'x', { idempotencyKey: 'same-key' });
    expect(b.platformMessageId).toBe(a.platformMessageId);
    expect(fake.sent()).toHaveLength(1);
  });

  it('maps "bot not in group" and "chat dissolved" to permanent failures with a reason for secretaries', async () => {
    fake.chats.get(CHAT)!.botIn = false;
    const out = await failure(messenger.sendText({ kind: 'chat', id: CHAT }, 'x', { idempotencyKey: 'k' }));
    expect(out).toBeInstanceOf(DeliveryError);
    expect(out).toMatchObject({ kind: 'permanent', reasonKey: 'feishu.delivery.bot_not_in_group' });
    fake.addChat({ chat_id: 'oc_gone', dissolved: true });
    const gone = await failure(messenger.sendText({ kind: 'chat', id: 'oc_gone' }, 'x', { idempotencyKey: 'k' }));
    expect(gone).toMatchObject({ kind: 'permanent', reasonKey: 'feishu.delivery.chat_dissolved' });
  });

  it('refuses messages over the size limits as too long, before and at the platform', async () => {
    const huge: Card = {
      header: { title: 't', colour: 'blue' },
      elements: [{ type: 'markdown', text: '字'.repeat(12_000) }],
    };
    const tooBig = await failure(messenger.sendCard({ kind: 'chat', id: CHAT }, huge, { idempotencyKey: 'k' }));
    expect(tooBig).toMatchObject({ kind: 'permanent', reasonKey: 'feishu.delivery.too_long' });
    const longText = await failure(
      messenger.sendText({ kind: 'chat', id: CHAT }, '字'.repeat(60_000), { idempotencyKey: 'k' }),
    );
    expect(longText).toMatchObject({ kind: 'permanent', reasonKey: 'feishu.delivery.too_long' });
    expect(fake.sent()).toHaveLength(0);
  });

  it('retries a 429 after x-ogw-ratelimit-reset, and the per-chat limit of 5/s', async () => {
    fake.throttleNext(1, 7);
    const limited = await failure(messenger.sendText({ kind: 'chat', id: CHAT }, 'x', { idempotencyKey: 'r0' }));
    expect(limited).toMatchObject({ kind: 'retry', retryAfterMs: 7000 });
    const results = await Promise.allSettled(
      Array.from({ length: 7 }, (_, i) =>
        messenger.sendText({ kind: 'chat', id: CHAT }, `m${i}`, { idempotencyKey: `r${i + 1}` }),
      ),
    );
    const rejected = results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason);
    expect(rejected.length).toBeGreaterThan(0);
    for (const r of rejected) expect(r).toMatchObject({ kind: 'retry' });
  });

  it('drops a revoked tenant token and fetches a new one on the next attempt', async () => {
    await messenger.sendText({ kind: 'chat', id: CHAT }, 'a', { idempotencyKey: 't1' });
    fake.revokeTokens();
    const err = await failure(messenger.sendText({ kind: 'chat', id: CHAT }, 'b', { idempotencyKey: 't2' }));
    expect(err).toMatchObject({ kind: 'retry' });
    await messenger.sendText({ kind: 'chat', id: CHAT }, 'b', { idempotencyKey: 't2' });
    expect(fake.tokensIssued).toBe(2);
  });

  it('updates a card by PATCH and with a callback token (two uses)', async () => {
    const sent = await messenger.sendCard({ kind: 'chat', id: CHAT }, everyElement, { idempotencyKey: 'c' });
    const closed: Card = {
      header: { title: '已结束', colour: 'grey' },
      elements: [{ type: 'markdown', text: '正确答案：B' }],
    };
    await messenger.updateCard({ ...sent, target: { kind: 'chat', id: CHAT } }, closed, { idempotencyKey: 'u' });
    expect(fake.messages.get(sent.platformMessageId)!.content).toContain('正确答案：B');
    const token = fake.issueCardToken(sent.platformMessageId);
    const group = { kind: 'chat' as const, id: CHAT };
    await messenger.updateWithToken(token, { ...closed, header: { title: '第二次', colour: 'grey' } }, group);
    await messenger.updateWithToken(token, { ...closed, header: { title: '第三次', colour: 'grey' } }, group);
    expect(fake.messages.get(sent.platformMessageId)!.content).toContain('第三次');
    await expect(messenger.updateWithToken(token, closed, group)).rejects.toMatchObject({ kind: 'permanent' });
  });

  it('reads the bot open_id once and display names from the paginated member list, cached', async () => {
    expect(await messenger.botOpenId()).toBe('ou_bot');
    expect(await messenger.botOpenId()).toBe('ou_bot');
    expect(await messenger.displayName(CHAT, 'ou_120')).toBe('成员120'); // on the second page
    expect(await messenger.displayName(CHAT, 'ou_3')).toBe('成员3');
    expect(messenger.cachedName(CHAT, 'ou_99')).toBe('成员99');
    const calls = fake.requests.filter((r) => r.path.endsWith('/members')).length;
    expect(calls).toBe(2);
    expect(fake.requests.filter((r) => r.path === '/open-apis/bot/v3/info')).toHaveLength(1);
  });

  it("lists a chat's members page by page, reuses a complete list, and fails rather than answer an empty one", async () => {
    const members = await messenger.listChatMembers(CHAT);
    expect(members).toHaveLength(130);
    expect(members[129]).toEqual({ id: 'ou_129', name: '成员129' });
    await messenger.listChatMembers(CHAT);
    expect(fake.requests.filter((r) => r.path.endsWith('/members'))).toHaveLength(2);
    // A chat the bot cannot read is an error, never an empty group.
    fake.addChat({ chat_id: 'oc_gone', members: [{ open_id: 'ou_x', name: '某人' }], botIn: false });
    await expect(messenger.listChatMembers('oc_gone')).rejects.toThrow();
  });

  it("learns the names of 80 groups clicked at once from two instances, sharing the API's 50 calls a second", async () => {
    // 09:00 in a province: every group's first clicker is unknown by name, on both instances.
    const chats = Array.from({ length: 80 }, (_, g) => `oc_g${g}`);
    for (const chat_id of chats)
      fake.addChat({
        chat_id,
        members: Array.from({ length: 150 }, (_, i) => ({ open_id: `ou_${chat_id}_${i}`, name: `${chat_id}成员${i}` })),
      });
    const lines: string[] = [];
    const log = createLogger({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const other = createFeishuMessenger({
      ...createFeishuClient({ ...APP, domain: fake.url, log }),
      sealer,
      clock: createSystemClock(),
      log,
    });
    const before = fake.requests.filter((r) => r.path.endsWith('/members')).length;
    // Each click starts its group's listing (a message waits for it up to 2 s); all must complete.
    const listings = await Promise.allSettled(
      [messenger, other].flatMap((m) => chats.map((c) => m.listChatMembers(c))),
    );
    // Before: each chat paced alone, the 160 listings asked together and most gave up after five 429s.
    expect(listings.filter((l) => l.status === 'rejected')).toEqual([]);
    expect(other.cachedName('oc_g0', 'ou_oc_g0_149')).toBe('oc_g0成员149');
    const asked = fake.requests.filter((r) => r.path.endsWith('/members')).length - before;
    // 320 pages; each instance paces itself under the limit, so only their overlap is refused.
    expect(asked - 320).toBeLessThan(320);
    // The refusals were waited out, not logged one by one (the SDK logged a warning per 429).
    expect(lines.filter((l) => l.includes('429') || l.includes('could not list'))).toEqual([]);
  }, 30_000);

  it('answers without the name after a short wait while the listing waits out a 429 storm, and learns it behind', async () => {
    fake.addChat({ chat_id: 'oc_storm', members: [{ open_id: 'ou_s1', name: '风暴中的人' }] });
    fake.throttleFor(3_000);
    const started = performance.now();
    // Before: the message waited for the listing, which waited out the whole storm.
    expect(await messenger.displayName('oc_storm', 'ou_s1')).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(2_800);
    await vi.waitFor(() => expect(messenger.cachedName('oc_storm', 'ou_s1')).toBe('风暴中的人'), { timeout: 8_000 });
  }, 15_000);

  it('knows every name in a big group: 12,000 members, 120 pages within the 50-calls-a-second limit', async () => {
    fake.addChat({
      chat_id: 'oc_big',
      members: Array.from({ length: 12_000 }, (_, i) => ({ open_id: `ou_big_${i}`, name: `党员${i}` })),
    });
    expect(await messenger.listChatMembers('oc_big')).toHaveLength(12_000);
    expect(messenger.cachedName('oc_big', 'ou_big_11999')).toBe('党员11999');
    expect(messenger.cachedName('oc_big', 'ou_big_5000')).toBe('党员5000');
  });
});
