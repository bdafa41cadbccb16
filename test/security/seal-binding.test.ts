import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineAction } from '../../src/bot/actions.ts';
import { defineCommand } from '../../src/bot/commands.ts';
import { BOT, CHAT, PEOPLE, startFeishuBot, type FeishuBot } from '../helpers/fake-feishu-setup.ts';

/**
 * Finding: a sealed answer value taken from a contest card in one chat, sent
 * as a click on a bot card in another chat (that card's open_message_id and
 * open_chat_id), was accepted and scored for a member who is not in the first
 * chat. The seal is now bound to where its card was sent.
 */
const OTHER_CHAT = 'oc_other000000000000000000000000002';

function createRoundFeature(clicks: { chat: string; member: string; round: string }[]) {
  const round = defineCommand({
    name: 'round',
    zh: '开一轮',
    summaryKey: 'cmd.help.summary',
    usageKey: 'cmd.help.usage',
    scope: 'group',
    role: 'member',
    async run(ctx) {
      // The round names its chat, as a contest round does.
      await ctx.replyCard({
        header: { title: '第1题', colour: 'orange' },
        elements: [
          {
            type: 'buttons',
            buttons: [
              {
                text: 'A',
                style: 'default',
                actionId: 'round.answer',
                payload: { v: 1, r: ctx.event.chat.id, c: 'A' },
              },
            ],
          },
        ],
      });
    },
  });
  const answer = defineAction({
    id: 'round.answer',
    payload: z.object({ v: z.literal(1), r: z.string(), c: z.string() }),
    async run(ctx, p) {
      clicks.push({ chat: ctx.event.chat.id, member: ctx.identity.memberId, round: p.r });
      return { toast: { kind: 'success', text: '已作答' } };
    },
  });
  return { name: 'round', commands: [round], actions: [answer] };
}

describe('a card’s seal belongs to its chat (Feishu)', () => {
  let bot: FeishuBot | undefined;
  afterEach(async () => {
    await bot?.close();
    bot = undefined;
  });

  it('a value sealed on a card in chat A, clicked on a bot card in chat B, is refused and nothing is recorded', async () => {
    const clicks: { chat: string; member: string; round: string }[] = [];
    bot = await startFeishuBot({ features: [() => createRoundFeature(clicks)] });
    bot.fake.addChat({ chat_id: OTHER_CHAT, name: '第二党支部', members: [PEOPLE.zhang] });
    const open = async (chatId: string, member: string) => {
      await bot!.post(
        bot!.pusher.push(bot!.pusher.textMessage({ senderOpenId: member, chatId, text: '开一轮', botOpenId: BOT })),
      );
      await bot!.settle();
      const card = bot!.fake.sent({ chat_id: chatId, msg_type: 'interactive' }).at(-1)!;
      const value = JSON.stringify(JSON.parse(card.content)).match(/"value":(\{"a":"round\.answer".*?"s":"[^"]+"\})/);
      return { messageId: card.message_id, value: JSON.parse(value![1]!) as { p: { r: string } } };
    };
    const inA = await open(CHAT, PEOPLE.li.open_id);
    const inB = await open(OTHER_CHAT, PEOPLE.zhang.open_id);
    expect(inA.value.p.r).toBe(CHAT);

    // 张华 (only in chat B) carries chat A's sealed value over to the bot's card in chat B.
    const forged = bot.pusher.cardClick({
      operatorOpenId: PEOPLE.zhang.open_id,
      messageId: inB.messageId,
      chatId: OTHER_CHAT,
      value: inA.value,
    });
    const res = await bot.post(bot.pusher.push(forged));
    expect(res.status).toBe(200);
    expect(((await res.json()) as { toast: { type: string } }).toast.type).toBe('error');
    await bot.settle();
    expect(clicks).toEqual([]);
    const recorded = await bot.h.shuxiang.db.prisma.inboundEvent.count({
      where: { eventKey: String(forged.header.event_id) },
    });
    expect(recorded).toBe(0);

    // The card's own value in its own chat still counts.
    const own = await bot.post(
      bot.pusher.push(
        bot.pusher.cardClick({
          operatorOpenId: PEOPLE.zhang.open_id,
          messageId: inB.messageId,
          chatId: OTHER_CHAT,
          value: inB.value,
        }),
      ),
    );
    expect(((await own.json()) as { toast: { type: string } }).toast.type).toBe('success');
    expect(clicks).toHaveLength(1);
    expect(clicks[0]!.round).toBe(OTHER_CHAT);
  });
});
