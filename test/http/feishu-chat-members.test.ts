import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BOT, CHAT, PEOPLE, startFeishuBot, type FeishuBot } from '../helpers/fake-feishu-setup.ts';

/**
 * Who is in a Feishu group, as attendance and supervision ask: the whole bot
 * with the real SDK against the fake OpenAPI's paged chat-members API.
 */
describe('Feishu: the members of a group', () => {
  let bot: FeishuBot;
  beforeEach(async () => {
    bot = await startFeishuBot();
    // Only 王书记 has spoken; the group has 3 people and 250 more.
    bot.chat.members.push(...Array.from({ length: 250 }, (_, i) => ({ open_id: `ou_more_${i}`, name: `党员${i}` })));
    const push = bot.pusher.textMessage({
      senderOpenId: PEOPLE.wang.open_id,
      chatId: CHAT,
      text: '我是谁',
      botOpenId: BOT,
    });
    expect((await bot.post(bot.pusher.push(push))).status).toBe(200);
    await bot.settle();
  });
  afterEach(async () => {
    await bot.close();
  });

  it('lists everyone, registering those never seen, and falls back to them when Feishu refuses', async () => {
    const { directory, db } = bot.h.shuxiang;
    const { orgId } = await db.prisma.chat.findFirstOrThrow({ where: { platformChatId: CHAT } });
    const members = await directory.chatMembers(orgId, 'feishu', CHAT);
    expect(members).toHaveLength(253);
    expect(members.find((m) => m.platformUserId === PEOPLE.li.open_id)?.displayName).toBe('李明');
    expect(await db.prisma.member.count({ where: { orgId } })).toBe(253);
    const pages = bot.fake.requests.filter((r) => r.path.endsWith('/members')).length;

    // A sign-in card clicked again and again does not list the group each time.
    await directory.chatMembers(orgId, 'feishu', CHAT);
    expect(bot.fake.requests.filter((r) => r.path.endsWith('/members')).length).toBe(pages);

    // The bot lost access (later, after the caches expired): the recorded membership answers.
    bot.chat.botIn = false;
    bot.h.clock.advance(11 * 60_000);
    expect(await directory.chatMembers(orgId, 'feishu', CHAT)).toHaveLength(253);
    expect(bot.fake.requests.filter((r) => r.path.endsWith('/members')).length).toBeGreaterThan(pages);
  });
});
