import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDingTalkHarness, type DingTalkHarness } from '../helpers/fake-dingtalk-harness.ts';

/** Without DINGTALK_CARD_TEMPLATE_ID: cards are markdown, buttons are text commands. */
describe('DingTalk without a card template', () => {
  let h: DingTalkHarness;
  beforeEach(async () => {
    h = await createDingTalkHarness({ mode: 'webhook', template: false });
  });
  afterEach(async () => {
    await h.close();
  });

  interface WebhookBody {
    msgtype: string;
    text: { content: string };
    markdown: { title: string; text: string };
    at: { atUserIds: string[] };
  }
  const lastWebhook = () => h.api.webhookMessages[h.api.webhookMessages.length - 1]!.body as unknown as WebhookBody;

  it('keeps every card action reachable as a text command, answered on the sessionWebhook', async () => {
    await h.postRobot(h.robotMessage({ text: '帮助', userId: 'm-li' }));
    await h.settle();
    expect(h.api.cards.size).toBe(0);
    const help = lastWebhook();
    expect(help.msgtype).toBe('markdown');
    expect(help.markdown.title).toBe('书香 · 命令列表');
    const command = /我的身份：(按 [0-9a-f]{4} 1)/.exec(help.markdown.text as string);
    expect(command).not.toBeNull();

    // The member types the command; the toast comes back @-mentioning them.
    await h.postRobot(h.robotMessage({ text: command![1]!, userId: 'm-li' }));
    await h.settle();
    const toast = lastWebhook();
    expect(toast.msgtype).toBe('text');
    expect(toast.text.content).toContain('@m-li');
    expect(toast.text.content).toContain('身份：成员');
    expect(toast.at.atUserIds).toEqual(['m-li']);
    // All of it on the sessionWebhook: no quota spent.
    expect(await h.sx.db.prisma.dingTalkApiUsage.count({ where: { NOT: { api: { startsWith: 'webhook.' } } } })).toBe(
      0,
    );
  });

  it('answers a quiz by text command and posts the updated card', async () => {
    await h.postRobot(h.robotMessage({ text: '钉钉测验', userId: 'sec-wang' }));
    await h.settle();
    const question = lastWebhook();
    const code = /A 上海：按 ([0-9a-f]{4}) 1/.exec(question.markdown.text as string)![1]!;
    expect(question.markdown.text).toContain(`B 北京：按 ${code} 2`);

    await h.postRobot(h.robotMessage({ text: `按 ${code} 1`, userId: 'm-li' }));
    await h.settle();
    expect(lastWebhook().text.content).toContain('回答正确');
    // A markdown message cannot be edited: the new version is posted.
    const update = h.api.groupMessages.find((g) => g.msgParam.title === '每日一题（已更新）');
    expect(update?.msgParam.text).toContain('1 人');
    expect(update?.msgParam.text).toContain(`按 ${code} 1`);

    await h.postRobot(h.robotMessage({ text: `按 ${code} 2`, userId: 'm-li' }));
    await h.settle();
    expect(lastWebhook().text.content).toContain('已经答过');
    expect(h.quiz.answers).toEqual(new Map([['m-li', 'A']]));

    // A multiple choice takes its options after the number; a wrong option gets a hint.
    expect(question.markdown.text).toContain(`多选提交：按 ${code} 4 A B`);
    await h.postRobot(h.robotMessage({ text: `按 ${code} 4 a，C`, userId: 'm-zhang' }));
    await h.settle();
    expect(lastWebhook().text.content).toContain('你选了 A、C');
    await h.postRobot(h.robotMessage({ text: `按 ${code} 4 D`, userId: 'm-zhang' }));
    await h.settle();
    expect(lastWebhook().text.content).toContain(`请写上选项（可选：A / B / C），例如：按 ${code} 4 A`);
  });

  it('explains a command that names no card or no such button', async () => {
    await h.postRobot(h.robotMessage({ text: '按 ffff 1' }));
    await h.settle();
    expect(lastWebhook().text.content).toContain('没有找到编号为 ffff 的卡片');
    await h.postRobot(h.robotMessage({ text: '钉钉测验' }));
    await h.settle();
    const code = /按 ([0-9a-f]{4}) 1/.exec(lastWebhook().markdown.text as string)![1]!;
    await h.postRobot(h.robotMessage({ text: `按 ${code} 9` }));
    await h.settle();
    expect(lastWebhook().text.content).toContain(`卡片 ${code} 上没有第 9 项操作`);
    expect(h.quiz.answers.size).toBe(0);
  });
});
