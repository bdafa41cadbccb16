import { afterEach, describe, expect, it } from 'vitest';
import { createDingTalkHarness, type DingTalkHarness } from '../helpers/fake-dingtalk-harness.ts';
import { BOT, CHAT, PEOPLE, startFeishuBot, type FeishuBot } from '../helpers/fake-feishu-setup.ts';

/**
 * Finding: a Feishu message whose `sender_id.user_id` was `null` (an app
 * without the user-id scope) was refused whole with a 400, so that member's
 * command was lost. Optional fields the bot does not need are optional
 * whether absent, null or empty, on both platforms.
 */
describe('tolerant where the platform varies', () => {
  let feishu: FeishuBot | undefined;
  let dingtalk: DingTalkHarness | undefined;
  afterEach(async () => {
    await feishu?.close();
    await dingtalk?.close();
    feishu = dingtalk = undefined;
  });

  it('Feishu: a message with user_id and union_id null is still answered', async () => {
    feishu = await startFeishuBot();
    const env = feishu.pusher.textMessage({
      senderOpenId: PEOPLE.li.open_id,
      chatId: CHAT,
      text: '我是谁',
      botOpenId: BOT,
    });
    env.event.sender.sender_id.user_id = null;
    env.event.sender.sender_id.union_id = null;
    env.event.message.create_time = null;
    const res = await feishu.post(feishu.pusher.push(env));
    expect(res.status).toBe(200);
    await feishu.settle();
    const texts = feishu.fake.sent({ chat_id: CHAT, msg_type: 'text' }).map((m) => m.content);
    expect(texts.some((t) => t.includes('身份'))).toBe(true);
  });

  it('DingTalk: a robot message with empty and null optional fields is still answered', async () => {
    dingtalk = await createDingTalkHarness({ mode: 'webhook', template: false });
    const msg = {
      ...dingtalk.robotMessage({ text: '我是谁' }),
      senderCorpId: null,
      conversationTitle: '',
      isInAtList: null,
    };
    expect((await dingtalk.postRobot(msg)).status).toBe(200);
    await dingtalk.settle();
    const last = dingtalk.api.webhookMessages.at(-1)?.body as { text?: { content: string } } | undefined;
    expect(last?.text?.content).toContain('身份');
  });
});
