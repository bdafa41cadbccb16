import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness, type TranscriptMessage } from '../helpers/harness.ts';
import {
  advance,
  clickOption,
  correctChoice,
  questionOn,
  seedQuestions,
  wrongChoice,
  QUIZ_ENV,
} from '../helpers/quiz-fixtures.ts';

const G = 'group-a';

function table(m: TranscriptMessage | undefined): string[][] {
  const t = m?.card?.elements.find((e) => e.type === 'table');
  return t && t.type === 'table' ? t.rows : [];
}

/** A two-question contest: 李明 right twice, 张华 right then wrong, 陈静 wrong then right. */
async function playContest(h: Harness): Promise<TranscriptMessage[]> {
  const [first] = await h.say(G, 'sec-wang', '出题 2 党史');
  const cards = [first!];
  const plan: Record<string, boolean[]> = { 'm-li': [true, true], 'm-zhang': [true, false], 'm-chen': [false, true] };
  for (let i = 0; i < 2; i++) {
    const card = cards[i]!;
    const q = questionOn(card);
    for (const [user, right] of Object.entries(plan)) {
      await advance(h, 1000);
      await clickOption(h, G, user, card, right[i] ? correctChoice(q) : wrongChoice(q));
    }
    await advance(h, 20_000);
    const next = (await h.transcript(G)).filter((m) => m.card?.header.title.includes(`第${i + 2}/2题`));
    if (next[0]) cards.push(next[0]);
  }
  return cards;
}

/** A member asks for a board in the group: one line there, the board itself in their private chat. */
async function askBoard(h: Harness, user: string, text: string): Promise<TranscriptMessage> {
  const inGroup = await h.say(G, user, text);
  expect(
    inGroup.map((m) => m.text),
    text,
  ).toEqual([expect.stringMatching(/，排行榜已私信发给您。书记可发送「排行榜 发布」在群里公示。$/)]);
  const cards = (await h.transcript(`dm-${user}`)).filter((m) => m.from === 'bot' && m.card);
  return cards[cards.length - 1]!;
}

describe('leaderboards, the star learner and voiding a question', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness({ env: QUIZ_ENV });
    await seedQuestions(h.shuxiang.db.prisma);
  });
  afterEach(async () => {
    await h.close();
  });

  it('shows week/month/year boards per member and per unit, and publishes one with a chart', async () => {
    await playContest(h);
    const week = await askBoard(h, 'm-zhang', '排行榜');
    expect(week.card!.header.title).toBe('学习排行榜 · 本周 · 个人');
    // Ties on correct answers (1 each for 张华 and 陈静, same number of answers): who got there first wins.
    expect(table(week).map((r) => r.slice(0, 4))).toEqual([
      ['1', '李明', '2', '2'],
      ['2', '张华', '1', '2'],
      ['3', '陈静', '1', '2'],
    ]);
    expect(JSON.stringify(week.card)).toContain('您本周排第 2 名，答对 1 题。');
    expect(week.card!.elements.some((e) => e.type === 'chart')).toBe(false);

    const month = await askBoard(h, 'm-li', 'rank month');
    expect(month.card!.header.title).toBe('学习排行榜 · 本月 · 个人');
    const units = await askBoard(h, 'm-chen', '排行榜 单位 年');
    expect(units.card!.header.title).toBe('学习排行榜 · 本年度 · 单位');
    // 办公室 (李明 2 of 2) ahead of 学习科 (张华 + 陈静: 2 of 4).
    expect(table(units).map((r) => r.slice(0, 4))).toEqual([
      ['1', '办公室', '2', '2'],
      ['2', '学习科', '2', '4'],
    ]);
    expect(JSON.stringify(units.card)).toContain('您所在单位本年度排第 2 名');

    const [refused] = await h.say(G, 'm-li', '排行榜 年 发布');
    expect(refused!.text).toContain('需要「书记」权限');
    const [published] = await h.say(G, 'sec-wang', '排行榜 年 发布');
    const chart = published!.card!.elements.find((e) => e.type === 'chart');
    expect(chart?.type === 'chart' && chart.bars).toEqual([
      { label: '李明', value: 2 },
      { label: '张华', value: 1 },
      { label: '陈静', value: 1 },
    ]);
    expect(JSON.stringify(published!.card)).not.toContain('您本');

    // Last month's board: nothing there yet; next month this month's answers are "last month".
    const lastMonth = await askBoard(h, 'm-li', '排行榜 上月');
    expect(lastMonth.card!.header.title).toBe('学习排行榜 · 上月 · 个人');
    expect(JSON.stringify(lastMonth.card)).toContain('这一时段还没有人答题');
    h.clock.set('2026-04-01T02:00:00Z');
    const april = await askBoard(h, 'm-li', 'rank last month');
    expect(table(april).map((r) => r[1])).toEqual(['李明', '张华', '陈静']);

    const [bad] = await h.say(G, 'm-li', '排行榜 季度');
    expect(bad!.text).toContain('不认识「季度」');
    expect(bad!.text).toContain('用法：排行榜');

    const [star] = await h.say(G, 'm-chen', '学习之星');
    expect(star!.card!.header.title).toBe('2026 年度学习之星');
    expect(JSON.stringify(star!.card)).toContain('🌟 李明：全年答对 2 题');
    const [none] = await h.say(G, 'm-chen', '学习之星 2025');
    expect(none!.text).toBe('2025 年还没有人答对题目，学习之星暂缺。');
  });

  it('voids a question with a wrong key: scores and boards are recomputed, the podium re-issued', async () => {
    const cards = await playContest(h);
    const db = h.shuxiang.db.prisma;
    const before = await db.quizTally.findFirstOrThrow({
      where: { scope: 'member', subjectId: 'demo-member-m-li', period: { startsWith: 'Y' } },
    });
    expect(before).toMatchObject({ correct: 2, answered: 2 });

    const cases: [string, string, string][] = [
      ['m-li', '作废 1 1', '需要「书记」权限'],
      ['sec-wang', '作废 9 1', '没有第9场。'],
      ['sec-wang', '作废 1 7', '第1场没有第7题。'],
      ['sec-wang', '作废 一 1', '场次要写数字'],
    ];
    for (const [user, input, expected] of cases) {
      const [reply] = await h.say(G, user, input);
      expect(reply!.text, input).toContain(expected);
    }

    const replies = await h.say(G, 'sec-wang', '作废 1 1');
    expect(replies.find((m) => m.text)!.text).toContain('已作废第1场第1题，涉及 3 人的成绩已重新计算');
    const after = await db.quizTally.findFirstOrThrow({
      where: { scope: 'member', subjectId: 'demo-member-m-li', period: { startsWith: 'Y' } },
    });
    expect(after).toMatchObject({ correct: 1, answered: 1 });
    const zhang = await db.quizTally.findFirstOrThrow({
      where: { scope: 'member', subjectId: 'demo-member-m-zhang', period: { startsWith: 'W' } },
    });
    expect(zhang).toMatchObject({ correct: 0, answered: 1, points: 0 });

    const revealed = (await h.transcript(G)).find((m) => m.messageId === cards[0]!.messageId)!;
    expect(JSON.stringify(revealed.card)).toContain('本题已作废，不计分。');
    const podiums = (await h.transcript(G)).filter((m) => m.card?.header.title.includes('最终排名'));
    expect(podiums).toHaveLength(2);
    expect(table(podiums[1]).map((r) => [r[1], r[3]])).toEqual([
      ['李明', '975'],
      ['陈静', '925'],
      ['张华', '0'],
    ]);
    expect(JSON.stringify(podiums[1]!.card)).toContain('其中 1 题已作废');

    const [again] = await h.say(G, 'sec-wang', '作废 1 1');
    expect(again!.text).toBe('第1场第1题已经作废过了。');
    // The voided question is out of the bank until corrected.
    const q = await db.question.findFirstOrThrow({ where: { stem: questionOn(cards[0]!).stem } });
    expect(q.status).toBe('retired');
  });
});
