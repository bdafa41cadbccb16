import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { providers, type TestDatabase } from '../helpers/databases.ts';
import { createHarness, type Harness, type TranscriptMessage } from '../helpers/harness.ts';
import {
  advance,
  clickOption,
  correctChoice,
  latestCards,
  questionOn,
  seedQuestions,
  wrongChoice,
  QUIZ_ENV,
} from '../helpers/quiz-fixtures.ts';

const G = 'group-a';

function text(m: TranscriptMessage | undefined): string {
  return JSON.stringify(m?.card ?? m?.text ?? '');
}

async function cardTitled(h: Harness, title: string): Promise<TranscriptMessage> {
  const found = (await latestCards(h, G)).filter((m) => m.card!.header.title.includes(title));
  if (found.length === 0) throw new Error(`no card "${title}"`);
  return found[found.length - 1]!;
}

describe.each(providers)('live contest (知识抢答赛) through the sandbox HTTP API on $name', (provider) => {
  let h: Harness;
  let database: TestDatabase;
  beforeEach(async () => {
    database = await provider.create();
    h = await createHarness({ database, env: QUIZ_ENV });
    await seedQuestions(h.shuxiang.db.prisma);
  });
  afterEach(async () => {
    await h.close();
    await database.drop();
  });

  it('runs a three-question contest with three members: speed-weighted points, reveal, podium', async () => {
    const [first] = await h.say(G, 'sec-wang', '出题 3 党史');
    expect(first!.card!.header.title).toBe('知识抢答赛 · 第1场 · 第1/3题');
    expect(text(first)).toContain('限时 20 秒');

    // Question 1: 李明 right after 2 s, 张华 right after 8 s, 陈静 wrong.
    const q1 = questionOn(first!);
    await advance(h, 2000);
    const li = await clickOption(h, G, 'm-li', first!, correctChoice(q1));
    expect(li.toast?.text).toContain('已记录您的答案');
    expect(li.toast?.text).toContain('用时 2.0 秒');
    await advance(h, 6000);
    await clickOption(h, G, 'm-zhang', first!, correctChoice(q1));
    await clickOption(h, G, 'm-chen', first!, wrongChoice(q1));
    // A second answer by the same member is refused and changes nothing.
    const again = await clickOption(h, G, 'm-li', first!, wrongChoice(q1));
    expect(again.toast?.text).toBe('您已经答过这道题了，每题只能作答一次。');

    // Past the deadline (the reveal waits a moment for answers in flight): refused with a toast.
    await advance(h, 12_500);
    const late = await clickOption(h, G, 'sec-wang', first!, correctChoice(q1));
    expect(late.toast?.text).toBe('本题作答时间已过，答案未被记录。');

    // Time-out: the card shows the answer, the explanation and who got it; question 2 follows.
    await advance(h, 500);
    const revealed = (await h.transcript(G)).find((m) => m.messageId === first!.messageId)!;
    expect(revealed.card!.header.colour).toBe('green');
    expect(text(revealed)).toContain('正确答案');
    expect(text(revealed)).toContain(q1.explanation!);
    expect(text(revealed)).toContain('李明（+950）');
    expect(text(revealed)).toContain('张华（+800）');
    expect(text(revealed)).not.toContain('陈静（+');
    expect(revealed.card!.elements.some((e) => e.type === 'buttons' || e.type === 'choice' || e.type === 'form')).toBe(
      false,
    );

    // The revealed card has no buttons left, so the platform offers nothing to click.
    await expect(clickOption(h, G, 'm-chen', revealed, correctChoice(q1))).rejects.toThrow(/no control/);

    // Question 2: 陈静 answers by typing, first and right.
    const second = await cardTitled(h, '第2/3题');
    const q2 = questionOn(second);
    await advance(h, 1000);
    const typed = await h.say(G, 'm-chen', `答 ${correctChoice(q2)}`);
    // Acknowledged privately: the group sees nothing others could copy.
    expect(typed).toEqual([]);
    expect((await h.transcript('dm-m-chen')).at(-1)!.text).toContain('第1场第2题：已记录您的答案');
    await advance(h, 3000);
    await clickOption(h, G, 'm-li', second, wrongChoice(q2));
    await advance(h, 17_000);

    // Question 3: nobody answers.
    const third = await cardTitled(h, '第3/3题');
    await advance(h, 21_000);
    expect(text((await h.transcript(G)).find((m) => m.messageId === third.messageId))).toContain('无人答对');

    const podium = await cardTitled(h, '最终排名');
    const table = podium.card!.elements.find((e) => e.type === 'table');
    expect(table && table.type === 'table' ? table.rows : []).toEqual([
      ['1', '陈静', '1', '975'],
      ['2', '李明', '1', '950'],
      ['3', '张华', '1', '800'],
    ]);
    expect(text(podium)).toContain('🥇 **陈静**');

    // The contest is over: typing an answer now says so, and a new contest may start.
    const after = await h.say(G, 'm-li', '答 A');
    expect(after[0]!.text).toContain('没有正在进行的抢答题');
    const [next] = await h.say(G, 'sec-wang', '出题 2');
    expect(next!.card!.header.title).toBe('知识抢答赛 · 第2场 · 第1/2题');
  });

  it('refuses a second contest in the same group while one runs, and writes nothing', async () => {
    await h.say(G, 'sec-wang', '出题 2');
    const [reply] = await h.say(G, 'sec-wang', '出题 3');
    expect(reply!.text).toBe('本群第1场抢答赛还在进行中，请等它结束，或发送「出题 停止」提前结束。');
    expect(await h.shuxiang.db.prisma.quizRound.count()).toBe(1);
    // Another group may run its own.
    const [other] = await h.say('group-b', 'sec-wang', '出题 1');
    expect(other!.card!.header.title).toContain('第2场');
    // Stopping ends it with a podium.
    const stopped = await h.say(G, 'sec-wang', '出题 停止');
    expect(stopped.some((m) => m.text === '第1场抢答赛已提前结束。')).toBe(true);
    expect(stopped.some((m) => m.card?.header.title.includes('最终排名'))).toBe(true);
  });

  it('answers bad input precisely', async () => {
    const cases: [string, string, string][] = [
      ['m-li', '出题 3', '需要「书记」权限'],
      ['sec-wang', '出题 abc', '题数要写 1 到 30 之间的整数'],
      ['sec-wang', '出题 0', '题数要写 1 到 30 之间的整数'],
      ['sec-wang', '出题 3 党史 5秒', '每题时间要在 10 到 120 秒之间'],
      ['sec-wang', '出题 3 不存在的标签', '题库里没有标签为「不存在的标签」的题目'],
      ['sec-wang', '出题 30 党史', '标签「党史」下只有 5 道可用的题，不够 30 道'],
      ['m-li', '答 B', '本群现在没有正在进行的抢答题'],
    ];
    for (const [user, input, expected] of cases) {
      const [reply] = await h.say(G, user, input);
      expect(reply!.text, input).toContain(expected);
    }
    expect(await h.shuxiang.db.prisma.quizRound.count()).toBe(0);
    expect(await h.shuxiang.db.prisma.scheduledItem.count()).toBe(0);

    const [card] = await h.say(G, 'sec-wang', '出题 1 党史');
    const q = questionOn(card!);
    const [bad] = await h.say(G, 'm-li', q.type === 'fill' ? '答 ' : '答 Z');
    expect(bad!.text).toMatch(/没看懂这个答案|命令格式不对/);
    expect(await h.shuxiang.db.prisma.quizAnswer.count()).toBe(0);
  });

  it('counts two simultaneous clicks by one member once', async () => {
    const [card] = await h.say(G, 'sec-wang', '出题 1 党史');
    const q = questionOn(card!);
    const results = await Promise.all([
      clickOption(h, G, 'm-li', card!, correctChoice(q)),
      clickOption(h, G, 'm-li', card!, wrongChoice(q)),
      clickOption(h, G, 'm-li', card!, correctChoice(q)),
    ]);
    const recorded = results.filter((r) => r.toast?.text.includes('已记录'));
    const refused = results.filter((r) => r.toast?.text.includes('只能作答一次'));
    expect(recorded).toHaveLength(1);
    expect(refused).toHaveLength(2);
    const db = h.shuxiang.db.prisma;
    await h.shuxiang.bot.settle(); // fold the answer journal before reading its tables
    expect(await db.quizAnswer.count()).toBe(1);
    const tally = await db.quizTally.findFirst({ where: { scope: 'member', period: { startsWith: 'Y' } } });
    expect(tally?.answered).toBe(1);
  });
});
