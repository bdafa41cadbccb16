/* eslint-disable @typescript-eslint/no-explicit-any -- Feishu card JSON is walked freely here */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CHAT, PEOPLE, BOT, startFeishuBot, type FeishuBot } from '../helpers/fake-feishu-setup.ts';
import { escapeFeishuText } from '../../src/platforms/feishu/render-card.ts';
import { correctChoice, QUIZ_ENV, SAMPLE, seedQuestions, wrongChoice } from '../helpers/quiz-fixtures.ts';

/**
 * The real quiz feature in a Feishu group: pushes encrypted and signed as
 * Feishu sends them, the card JSON the bot rendered read back from the fake
 * OpenAPI, and clicks built from that JSON (button values, form field names)
 * exactly as the Feishu client would post them.
 */
/** A stem as it appears in the card JSON: escaped for Feishu markdown (member text), then JSON-quoted. */
const shownStem = (stem: string) => escapeFeishuText(stem).replace(/"/g, '\\"');

const sh = (local: string) => new Date(`${local.replace(' ', 'T')}:00+08:00`);

interface Control {
  position: number;
  value: unknown;
  /** The form field's name as rendered (a form question); absent for a button. */
  field?: string;
  /** The button's text (a choice question). */
  text?: string;
}

/** Every answer control on a rendered Feishu card, with the question position it answers. */
function controlsOf(content: string): Control[] {
  const out: Control[] = [];
  const walk = (node: any, form?: any) => {
    if (Array.isArray(node)) return node.forEach((n) => walk(n, form));
    if (!node || typeof node !== 'object') return;
    if (node.tag === 'form') return walk(node.elements, node);
    if (node.tag === 'button') {
      const value = node.behaviors?.find((b: any) => b.type === 'callback')?.value;
      if (value?.a === 'quiz.answer') {
        const field = form?.elements?.find((e: any) => e.tag !== 'button')?.name;
        out.push({ position: value.p.p, value, ...(form ? { field } : { text: node.text?.content }) });
      }
    }
    for (const v of Object.values(node)) if (typeof v === 'object') walk(v, form);
  };
  walk(JSON.parse(content));
  return out;
}

describe('e2e: the quiz feature in a Feishu group', () => {
  let bot: FeishuBot;
  let orgId: string;

  beforeEach(async () => {
    bot = await startFeishuBot({ env: { ...QUIZ_ENV, SHUXIANG_ADMINS: `feishu:${PEOPLE.wang.open_id}` } });
    // The secretary's first words register the group and its organisation.
    await say(PEOPLE.wang.open_id, '我的身份');
    orgId = (await bot.h.shuxiang.db.prisma.chat.findFirstOrThrow({ where: { platformChatId: CHAT } })).orgId;
    await seedQuestions(bot.h.shuxiang.db.prisma, SAMPLE, orgId);
  });
  afterEach(async () => {
    await bot.close();
  });

  async function say(openId: string, text: string) {
    const res = await bot.post(
      bot.pusher.push(bot.pusher.textMessage({ senderOpenId: openId, chatId: CHAT, text, botOpenId: BOT })),
    );
    expect(res.status).toBe(200);
    await bot.settle();
  }

  async function click(openId: string, messageId: string, c: Control, formValue?: Record<string, unknown>) {
    const res = await bot.post(
      bot.pusher.push(
        bot.pusher.cardClick({ operatorOpenId: openId, messageId, chatId: CHAT, value: c.value, formValue }),
      ),
    );
    expect(res.status).toBe(200);
    return (await res.json()) as { toast?: { type: string; content: string } };
  }

  const cards = (title: string) =>
    bot.fake.sent({ chat_id: CHAT, msg_type: 'interactive' }).filter((m) => m.content.includes(title));

  it('daily practice: the card with every question type reaches the group; buttons and forms are answered', async () => {
    await say(PEOPLE.wang.open_id, '每日一练 开启 09:30 10');
    bot.h.clock.set(sh('2026-03-02 09:30'));
    await bot.h.shuxiang.scheduler.tick();
    await bot.settle();
    // Ten questions, three of them forms (two fill-ins and a multiple choice): Feishu accepted the card.
    const [daily] = cards('每日一练');
    expect(daily, 'daily card delivered').toBeDefined();
    expect(await bot.h.shuxiang.db.prisma.outboxMessage.count({ where: { status: 'dead' } })).toBe(0);

    const controls = controlsOf(daily!.content);
    const stems = SAMPLE.filter((q) => daily!.content.includes(shownStem(q.stem)));
    const at = (position: number) =>
      stems.sort((a, b) => daily!.content.indexOf(shownStem(a.stem)) - daily!.content.indexOf(shownStem(b.stem)))[
        position - 1
      ]!;
    const button = controls.find((c) => c.field === undefined && c.text?.startsWith(correctChoice(at(c.position))))!;
    const fill = controls.find((c) => c.field && at(c.position).type === 'fill')!;
    expect(button && fill).toBeTruthy();

    const right = await click(PEOPLE.li.open_id, daily!.message_id, button);
    expect(right.toast?.type).toBe('success');
    expect(right.toast?.content).toContain(`第${button.position}题 回答正确`);
    const typed = await click(PEOPLE.li.open_id, daily!.message_id, fill, {
      [fill.field!]: wrongChoice(at(fill.position)),
    });
    expect(typed.toast?.content).toContain(`第${fill.position}题 回答错误`);
    await bot.h.shuxiang.bot.settle(); // fold the answer journal before reading its tables
    expect(await bot.h.shuxiang.db.prisma.quizAnswer.count()).toBe(2);

    // Feishu never retries a callback; a replayed one changes nothing.
    const replay = bot.pusher.push(
      bot.pusher.cardClick({
        operatorOpenId: PEOPLE.zhang.open_id,
        messageId: daily!.message_id,
        chatId: CHAT,
        value: button.value,
      }),
    );
    await bot.post(replay);
    await bot.post(replay);
    await bot.h.shuxiang.bot.settle(); // fold the answer journal before reading its tables
    expect(await bot.h.shuxiang.db.prisma.quizAnswer.count()).toBe(3);
  });

  it('live contest: a click is recorded with a toast, and at time-out the card is updated for everyone', async () => {
    await say(PEOPLE.wang.open_id, '出题 1 党史');
    const [question] = cards('知识抢答赛');
    expect(question, 'question card delivered').toBeDefined();
    const controls = controlsOf(question!.content);
    const q = SAMPLE.find((x) => question!.content.includes(shownStem(x.stem)))!;
    const answerNow = async (openId: string, choice: string) => {
      const control = controls.find((c) => c.text?.startsWith(choice));
      if (control) return click(openId, question!.message_id, control);
      const form = controls[0]!; // a fill-in question: one form
      return click(openId, question!.message_id, form, { [form.field!]: choice });
    };
    bot.h.clock.advance(3000);
    const li = await answerNow(PEOPLE.li.open_id, correctChoice(q));
    expect(li.toast?.content).toContain('已记录您的答案');

    bot.h.clock.advance(21_000);
    await bot.h.shuxiang.scheduler.tick();
    await bot.settle();
    const updated = bot.fake.messages.get(question!.message_id)!;
    expect(updated.patches).toBeGreaterThan(0);
    expect(updated.content).toContain('正确答案');
    expect(updated.content).toContain('李明');
    expect(cards('最终排名').length).toBe(1);
  });
});
