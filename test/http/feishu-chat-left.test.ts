import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BOT, CHAT, PEOPLE, startFeishuBot, type FeishuBot } from '../helpers/fake-feishu-setup.ts';
import { QUIZ_ENV, SAMPLE, seedQuestions } from '../helpers/quiz-fixtures.ts';

/**
 * A secretary removes the bot from a Feishu group: the group's daily
 * practice and reminders stop (nothing fails at the platform, nothing is
 * dead-lettered), the secretary hears once, privately, what was paused, and
 * other groups carry on. Pushes are encrypted and signed as Feishu sends them.
 */
const sh = (local: string) => new Date(`${local.replace(' ', 'T')}:00+08:00`);
const OTHER = 'oc_second0000000000000000000000002';
const WANG_DM = `oc_p2p_${PEOPLE.wang.open_id}`;
const LI_DM = `oc_p2p_${PEOPLE.li.open_id}`;

describe('Feishu: the bot removed from a group', () => {
  let bot: FeishuBot;

  beforeEach(async () => {
    bot = await startFeishuBot({ env: { ...QUIZ_ENV, SHUXIANG_ADMINS: `feishu:${PEOPLE.wang.open_id}` } });
    bot.fake.addChat({ chat_id: OTHER, name: '第二党支部学习群', members: Object.values(PEOPLE) });
    bot.h.clock.set(sh('2026-03-02 08:00')); // a Monday
    await say(CHAT, '我的身份');
    const { orgId } = await bot.h.shuxiang.db.prisma.chat.findFirstOrThrow({ where: { platformChatId: CHAT } });
    await seedQuestions(bot.h.shuxiang.db.prisma, SAMPLE, orgId);
    await say(CHAT, '每日一练 开启 09:30 2');
    await say(OTHER, '每日一练 开启 09:30 2');
    await say(CHAT, '提醒 每个工作日 10:00 交党费');
    await say(CHAT, '提醒 私聊 每个工作日 10:00 看学习强国 @李明', [{ openId: PEOPLE.li.open_id, name: '李明' }]);
  });
  afterEach(async () => {
    await bot.close();
  });

  async function say(chatId: string, text: string, others?: { openId: string; name: string }[]) {
    const push = bot.pusher.textMessage({ senderOpenId: PEOPLE.wang.open_id, chatId, text, botOpenId: BOT, others });
    expect((await bot.post(bot.pusher.push(push))).status).toBe(200);
    await bot.settle();
  }

  async function at(local: string) {
    bot.h.clock.set(sh(local));
    await bot.h.shuxiang.scheduler.tick();
    await bot.settle();
    // The fake counts Feishu's 5 messages a second per chat in real time, and the setup's replies
    // and these sends come within one real second: a send refused with 429 waits a second on the
    // bot's (manual) clock (a throttle is not counted as an attempt). Let such waits pass, as
    // seconds would in real life.
    for (let i = 0; i < 5; i++) {
      const retrying = await bot.h.shuxiang.db.prisma.outboxMessage.count({ where: { status: 'pending' } });
      if (retrying === 0) break;
      await new Promise((r) => setTimeout(r, 1000));
      bot.h.clock.advance(60_000);
      await bot.settle();
    }
  }

  const removal = (type = 'im.chat.member.bot.deleted_v1') =>
    bot.pusher.envelope(type, (e) => {
      e.event.chat_id = CHAT;
      e.event.operator_id.open_id = PEOPLE.wang.open_id;
    });

  const texts = (chatId: string) =>
    bot.fake.sent({ chat_id: chatId, msg_type: 'text' }).map((m) => (JSON.parse(m.content) as { text: string }).text);
  const cards = (chatId: string, title: string) =>
    bot.fake.sent({ chat_id: chatId, msg_type: 'interactive' }).filter((m) => m.content.includes(title));
  const requestsTo = (chatId: string) =>
    bot.fake.requests.filter((r) => (r.body as { receive_id?: string } | undefined)?.receive_id === chatId).length;
  const dead = () => bot.h.shuxiang.db.prisma.outboxMessage.count({ where: { status: 'dead' } });

  it('pauses the group plans, tells the secretary once, and leaves other groups and private reminders alone', async () => {
    // Monday: both groups get their practice and the group its reminder.
    await at('2026-03-02 09:30');
    await at('2026-03-02 10:00');
    expect(cards(CHAT, '每日一练')).toHaveLength(1);
    expect(cards(OTHER, '每日一练')).toHaveLength(1);
    expect(texts(CHAT).filter((t) => t.startsWith('⏰ 提醒：交党费'))).toHaveLength(1);

    // The secretary removes the bot; Feishu re-pushes the event, and later says the group was dissolved.
    bot.chat.botIn = false;
    const sentToGroup = bot.fake.sent({ chat_id: CHAT }).length;
    const triedBefore = requestsTo(CHAT);
    const event = removal();
    expect((await bot.post(bot.pusher.push(event))).status).toBe(200);
    expect((await bot.post(bot.pusher.push(event))).status).toBe(200);
    await bot.settle();
    expect((await bot.post(bot.pusher.push(removal('im.chat.disbanded_v1')))).status).toBe(200);
    await bot.settle();

    const notices = texts(WANG_DM).filter((t) => t.includes('已被移出群'));
    expect(notices).toHaveLength(1);
    expect(notices[0]).toContain('第一党支部学习群');
    expect(notices[0]).toContain('每日一练（每个工作日 09:30，2 题）已关闭');
    expect(notices[0]).toContain('「每日一练 开启 09:30 2」');
    expect(notices[0]).toContain('提醒「交党费」（每个工作日 10:00）已取消');
    expect(notices[0]).not.toContain('看学习强国');
    const chat = await bot.h.shuxiang.db.prisma.chat.findFirstOrThrow({ where: { platformChatId: CHAT } });
    expect(chat.leftAt).not.toBeNull();

    // Tuesday, the next working day: nothing for the removed group, the other group as usual.
    await at('2026-03-03 00:00');
    await at('2026-03-03 09:30');
    await at('2026-03-03 10:00');
    expect(bot.fake.sent({ chat_id: CHAT })).toHaveLength(sentToGroup);
    expect(cards(OTHER, '每日一练')).toHaveLength(2);
    expect(texts(LI_DM).filter((t) => t.includes('看学习强国'))).toHaveLength(2);
    expect(await dead()).toBe(0);
    expect(texts(WANG_DM).filter((t) => t.includes('发送失败') || t.includes('已被移出群'))).toHaveLength(1);
    // Not even tried: nothing was refused by Feishu.
    expect(requestsTo(CHAT)).toBe(triedBefore);

    // Added back: leftAt cleared, the welcome card posted, nothing resumed by itself.
    bot.chat.botIn = true;
    const added = bot.pusher.envelope('im.chat.member.bot.added_v1', (e) => {
      e.event.chat_id = CHAT;
      e.event.operator_id.open_id = PEOPLE.wang.open_id;
    });
    expect((await bot.post(bot.pusher.push(added))).status).toBe(200);
    await bot.settle();
    const back = await bot.h.shuxiang.db.prisma.chat.findFirstOrThrow({ where: { platformChatId: CHAT } });
    expect(back.leftAt).toBeNull();
    expect(cards(CHAT, '书香学习助手已加入本群')).toHaveLength(1);
    await at('2026-03-04 09:30');
    expect(cards(CHAT, '每日一练')).toHaveLength(1);
    expect(cards(OTHER, '每日一练')).toHaveLength(3);

    // Removed again later: a new departure, told again.
    bot.chat.botIn = false;
    expect((await bot.post(bot.pusher.push(removal()))).status).toBe(200);
    await bot.settle();
    expect(texts(WANG_DM).filter((t) => t.includes('已被移出群'))).toHaveLength(2);
    expect(texts(WANG_DM).at(-1)).toContain('没有正在运行的每日一练或提醒');
  });

  it('a closed-book test set in the group goes on privately, without announcements to the group', async () => {
    // 李明 is known to the bot (he has spoken); the test is set on Monday for Tuesday,
    // and the bot is removed in between.
    const li = bot.pusher.textMessage({
      senderOpenId: PEOPLE.li.open_id,
      chatId: CHAT,
      text: '我的身份',
      botOpenId: BOT,
    });
    await bot.post(bot.pusher.push(li));
    await bot.settle();
    await say(CHAT, '测试 安排 2 截止 3-3 18:00 开始 3-3 09:00');
    bot.chat.botIn = false;
    expect((await bot.post(bot.pusher.push(removal()))).status).toBe(200);
    await bot.settle();
    const notice = texts(WANG_DM).find((t) => t.includes('已被移出群'))!;
    expect(notice).toContain('第1场闭卷测试照常进行');
    const sentToGroup = bot.fake.sent({ chat_id: CHAT }).length;

    await at('2026-03-03 09:00');
    // Members are invited privately; the group hears nothing and nothing fails.
    expect(bot.fake.sent({ chat_id: LI_DM }).some((m) => m.content.includes('闭卷测试'))).toBe(true);
    await at('2026-03-03 18:00');
    expect(bot.fake.sent({ chat_id: CHAT })).toHaveLength(sentToGroup);
    expect(await dead()).toBe(0);
    // The results still reach the secretary.
    expect(bot.fake.sent({ chat_id: WANG_DM }).some((m) => m.content.includes('成绩'))).toBe(true);
  });

  it('a removal from a group the bot never registered is acknowledged and changes nothing', async () => {
    const before = await bot.h.shuxiang.db.prisma.outboxMessage.count();
    const env = bot.pusher.envelope('im.chat.member.bot.deleted_v1', (e) => {
      e.event.chat_id = 'oc_never_seen';
    });
    expect((await bot.post(bot.pusher.push(env))).status).toBe(200);
    await bot.settle();
    expect(await bot.h.shuxiang.db.prisma.outboxMessage.count()).toBe(before);
  });
});
