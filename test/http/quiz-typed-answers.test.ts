import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../helpers/harness.ts';
import { seedQuestions, type FixtureQuestion, QUIZ_ENV } from '../helpers/quiz-fixtures.ts';

/** Answers as people type them in a group, during a live contest (issue 11, part 4). */
const G = 'group-a';
const QUESTIONS: FixtureQuestion[] = [
  {
    stem: '遵义会议召开于哪一年？',
    type: 'single',
    options: ['1934年', '1935年', '1936年'],
    answer: ['B'],
    tags: ['单选'],
  },
  {
    stem: '以下哪些属于“三会一课”中的“三会”？',
    type: 'multiple',
    options: ['支部党员大会', '职工代表大会', '支部委员会', '党小组会'],
    answer: ['A', 'C', 'D'],
    tags: ['多选'],
  },
  { stem: '党员的党龄从递交入党申请书之日算起。', type: 'truefalse', answer: ['false'], tags: ['判断'] },
  { stem: '中国共产党的根本宗旨是全心全意为人民____。', type: 'fill', answer: ['服务'], tags: ['填空'] },
];

describe('typed answers during a contest', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness({ env: QUIZ_ENV });
    await seedQuestions(h.shuxiang.db.prisma, QUESTIONS);
  });
  afterEach(async () => {
    await h.close();
  });

  /** The member's answers as the database recorded them, by display name. */
  async function recorded(): Promise<Record<string, string>> {
    const db = h.shuxiang.db.prisma;
    await h.shuxiang.bot.settle(); // fold the answer journal before reading its tables
    const names = new Map((await db.member.findMany()).map((m) => [m.id, m.displayName]));
    const rows = await db.quizAnswer.findMany();
    return Object.fromEntries(rows.map((r) => [names.get(r.memberId), `${r.response}${r.correct ? ' ✓' : ' ✗'}`]));
  }

  const lastPrivate = async (user: string) => (await h.transcript(`dm-${user}`)).at(-1)?.text ?? '';

  it('takes 答b, 答：B, a bare Ｂ and 答 a on a single-choice question, each acknowledged privately', async () => {
    await h.say(G, 'sec-wang', '出题 1 单选');
    for (const [user, typed] of [
      ['m-li', '答b'],
      ['m-zhang', '答：B'],
      ['m-chen', 'Ｂ'],
      ['sec-wang', '答 a'],
    ] as const) {
      // Nothing in the group: an echoed answer is one the others can copy.
      expect(await h.say(G, user, typed), typed).toEqual([]);
      expect(await lastPrivate(user), typed).toMatch(/^第1场第1题：已记录您的答案 [AB]（用时/);
    }
    expect(await recorded()).toEqual({
      李明: '["B"] ✓',
      张华: '["B"] ✓',
      陈静: '["B"] ✓',
      王书记: '["A"] ✗',
    });
    // With no question open, a lone letter is just chatter the bot does not understand.
    await h.say(G, 'sec-wang', '出题 停止');
    const [after] = await h.say(G, 'm-li', 'B');
    expect(after!.text).toContain('没有「B」这个命令');
    await h.shuxiang.bot.settle(); // fold the answer journal before reading its tables
    expect(await h.shuxiang.db.prisma.quizAnswer.count()).toBe(4);
  });

  it('takes multi-choice answers with or without separators, in any case', async () => {
    await h.say(G, 'sec-wang', '出题 1 多选');
    for (const [user, typed] of [
      ['m-li', '答 ACD'],
      ['m-zhang', '答A,C,D'],
      ['m-chen', '答 a c d'],
      ['sec-wang', 'acd'],
    ] as const) {
      expect(await h.say(G, user, typed), typed).toEqual([]);
      expect(await lastPrivate(user), typed).toContain('已记录您的答案 A、C、D');
    }
    expect(Object.values(await recorded())).toEqual(Array(4).fill('["A","C","D"] ✓'));
  });

  it('takes 对/错, √/×, 正确/错误 and the buttons’ order A/B on a true/false question', async () => {
    await h.say(G, 'sec-wang', '出题 1 判断');
    for (const [user, typed] of [
      ['m-li', '答 B'],
      ['m-zhang', '答 ×'],
      ['m-chen', '错误'],
      ['sec-wang', '答：√'],
    ] as const) {
      expect(await h.say(G, user, typed), typed).toEqual([]);
      expect(await lastPrivate(user), typed).toMatch(/已记录您的答案 (正确|错误)/);
    }
    expect(await recorded()).toEqual({
      李明: '["false"] ✓',
      张华: '["false"] ✓',
      陈静: '["false"] ✓',
      王书记: '["true"] ✗',
    });
  });

  it('takes a fill-in answer only with 答 (glued or not); a lone word then is chatter', async () => {
    await h.say(G, 'sec-wang', '出题 1 填空');
    const [chatter] = await h.say(G, 'm-chen', 'B');
    expect(chatter!.text).toContain('没有「B」这个命令');
    expect(await h.say(G, 'm-li', '答服务')).toEqual([]);
    expect(await lastPrivate('m-li')).toContain('已记录您的答案 服务');
    expect(await h.say(G, 'm-zhang', '答：服务')).toEqual([]);
    expect(Object.keys(await recorded()).sort()).toEqual(['张华', '李明']);
  });

  it('takes 答b glued in a private chat for the test question a member is on', async () => {
    await h.say(G, 'sec-wang', '测试 安排 1 单选 截止 3-2 18:00');
    const invite = (await h.transcript('dm-m-li')).filter((m) => m.card).at(-1)!;
    await h.click('dm-m-li', 'm-li', invite, 'quiz.test.start');
    const replies = await h.say('dm-m-li', 'm-li', '答b');
    expect(JSON.stringify(replies)).toContain('已交卷，答对 1/1 题');
  });
});
