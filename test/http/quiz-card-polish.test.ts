import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness, type TranscriptMessage } from '../helpers/harness.ts';
import {
  advance,
  clickOption,
  latestCards,
  rawClick,
  seedQuestions,
  QUIZ_ENV,
  type FixtureQuestion,
} from '../helpers/quiz-fixtures.ts';

const G = 'group-a';
const dm = (user: string) => `dm-${user}`;

const MULTIPLE: FixtureQuestion = {
  stem: '以下哪些属于“三会一课”中的“三会”？',
  type: 'multiple',
  options: ['支部党员大会', '支部委员会', '党小组会', '职工代表大会'],
  answer: ['A', 'B', 'C'],
  tags: ['多选'],
};
const FILL: FixtureQuestion = {
  stem: '中国共产党的根本宗旨是全心全意为人民____。',
  type: 'fill',
  answer: ['服务'],
  tags: ['填空'],
};

function cardText(m: TranscriptMessage | undefined): string {
  return JSON.stringify(m?.card ?? '');
}

function occurrences(text: string, word: string): number {
  return text.split(word).length - 1;
}

async function botTexts(h: Harness, chat: string): Promise<string[]> {
  return (await h.transcript(chat)).filter((m) => m.from === 'bot').map((m) => m.text ?? cardText(m));
}

describe('quiz cards a member reads', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness({ env: QUIZ_ENV }); // Monday 2026-03-02, 09:00 in Shanghai
    await seedQuestions(h.shuxiang.db.prisma, [MULTIPLE, FILL]);
  });
  afterEach(async () => {
    await h.close();
  });

  it('lists the options of a multiple-choice question once; the boxes carry only the letters', async () => {
    const [card] = await h.say(G, 'sec-wang', '出题 1 多选');
    for (const option of MULTIPLE.options!) expect(occurrences(cardText(card), option), option).toBe(1);
    const choice = card!.card!.elements.find((e) => e.type === 'choice');
    expect(choice?.type === 'choice' && choice.options.map((o) => o.text)).toEqual(['A', 'B', 'C', 'D']);
    expect(cardText(card)).toContain('勾选全部正确选项后提交，或发送「答 AC」');
  });

  it('tells a fill-in card to write the answer, not to click an option', async () => {
    const [card] = await h.say(G, 'sec-wang', '出题 1 填空');
    expect(cardText(card)).not.toContain('点击选项');
    expect(cardText(card)).toContain('填写答案后提交，或发送「答 您的答案」');
  });

  it('gives no medal to a member who scored 0 分', async () => {
    const [card] = await h.say(G, 'sec-wang', '出题 1 填空');
    await clickOption(h, G, 'm-li', card!, '不知道');
    await advance(h, 21_000);
    const podium = (await latestCards(h, G)).find((m) => m.card!.header.title.includes('最终排名'))!;
    expect(cardText(podium)).not.toMatch(/🥇|🥈|🥉/);
    expect(cardText(podium)).toContain('本场没有人得分。');
    expect(cardText(podium)).toContain('李明');
  });

  it('gives medals only to those who scored', async () => {
    const [card] = await h.say(G, 'sec-wang', '出题 1 填空');
    await clickOption(h, G, 'm-li', card!, '服务');
    await clickOption(h, G, 'm-zhang', card!, '不知道');
    await advance(h, 21_000);
    const podium = (await latestCards(h, G)).find((m) => m.card!.header.title.includes('最终排名'))!;
    expect(cardText(podium)).toContain('🥇 **李明**');
    expect(cardText(podium)).not.toContain('🥈');
  });

  it('shows the test card the time the attempt ends instead of a countdown that never moves', async () => {
    await h.say(G, 'sec-wang', '测试 安排 1 填空 截止 3-2 18:00 限时 10');
    const invite = (await latestCards(h, dm('m-li'))).at(-1)!;
    await advance(h, 15_000);
    const started = await h.click(dm('m-li'), 'm-li', invite, 'quiz.test.start');
    // Started at 09:00:15 with 10 minutes: the attempt ends at 09:10.
    expect(cardText(started as TranscriptMessage)).toContain('本次作答 09:10 截止');
    expect(cardText(started as TranscriptMessage)).not.toContain('剩余');
  });

  it('announces a test once in the group; the details for the secretary go to them privately', async () => {
    await h.say(G, 'sec-wang', '测试 安排 1 填空 截止 3-2 18:00');
    const group = (await botTexts(h, G)).filter((t) => !t.includes('"header"'));
    expect(group).toEqual(['第1场闭卷测试已开始，已私聊通知 3 位成员，3月2日 18:00 截止。请在私聊中作答。']);
    expect(group.join('\n')).not.toContain('发给您');
    expect((await botTexts(h, dm('sec-wang'))).join('\n')).toContain('截止后把成绩和缺考名单发给您');

    await h.say(G, 'sec-wang', '测试 安排 1 填空 开始 3-3 09:00 截止 3-3 18:00');
    const later = (await botTexts(h, G)).slice(1);
    expect(later).toEqual([
      '已安排第2场闭卷测试，3月3日 09:00 开始，3月3日 18:00 截止。开始时会私聊通知每位成员，请届时在私聊中作答。',
    ]);
  });

  it('lists a test that has not started without "已作答 0/0 人"', async () => {
    await h.say(dm('sec-wang'), 'sec-wang', '测试 安排 1 填空 开始 3-3 09:00 截止 3-3 18:00');
    const [list] = await h.say(dm('sec-wang'), 'sec-wang', '测试 列表');
    expect(list!.text).toContain('第1场 闭卷测试《填空闭卷测试》 未开始，3月3日 09:00 开始，3月3日 18:00 截止');
    expect(list!.text).not.toContain('0/0');
  });

  it('answers a fill-in with the form (payload and values as the sandbox page posts them)', async () => {
    const [card] = await h.say(G, 'sec-wang', '出题 1 填空');
    const form = card!.card!.elements.find((e) => e.type === 'form')!;
    if (form.type !== 'form') throw new Error('no form');
    const ack = await rawClick(h, G, 'm-li', card!, form.actionId, form.payload, { c: '服务' });
    expect(ack.toast?.text).toContain('服务');
  });
});
