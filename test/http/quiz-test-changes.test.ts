import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/lib/clock.ts';
import { providers, type TestDatabase } from '../helpers/databases.ts';
import { createHarness, type Harness, type TranscriptMessage } from '../helpers/harness.ts';
import { advance, seedQuestions, QUIZ_ENV } from '../helpers/quiz-fixtures.ts';

/** Issue 11, parts 3 and 5: a test's results stay with the secretary; a test can be changed and cancelled. */
const G = 'group-a';
const dm = (user: string) => `dm-${user}`;

const botSaid = async (h: Harness, chat: string): Promise<TranscriptMessage[]> =>
  (await h.transcript(chat)).filter((m) => m.from === 'bot');
const lastText = async (h: Harness, chat: string) => (await botSaid(h, chat)).at(-1)?.text ?? '';
/** A secretary types in the group; what the bot said in the group and to them privately after it. */
async function secretarySays(h: Harness, text: string): Promise<string> {
  const before = (await h.transcript(dm('sec-wang'))).length;
  const inGroup = await h.say(G, 'sec-wang', text);
  const privately = (await h.transcript(dm('sec-wang'))).slice(before).filter((m) => m.from === 'bot');
  return [...inGroup, ...privately].map((m) => m.text ?? '').join('\n');
}
const lastCard = async (h: Harness, chat: string) => (await botSaid(h, chat)).filter((m) => m.card).at(-1);

describe.each(providers)('closed-book tests: results privately, change and cancel, on $name', (provider) => {
  let h: Harness;
  let database: TestDatabase;
  beforeEach(async () => {
    database = await provider.create();
    h = await createHarness({ database, env: QUIZ_ENV }); // Monday 2026-03-02 09:00 in Shanghai
    await seedQuestions(h.shuxiang.db.prisma);
  });
  afterEach(async () => {
    await h.close();
    await database.drop();
  });

  it('sends 测试 结果 and 测试 导出 typed in a group to the secretary privately; without a number, the latest', async () => {
    const [none] = await h.say(G, 'sec-wang', '测试 结果');
    expect(none!.text).toBe('还没有已开始的测试，没有成绩可看。');
    await h.say(G, 'sec-wang', '测试 安排 1 党史 截止 3-2 12:00 补考 0');
    await h.say(G, 'sec-wang', '测试 安排 1 党建 截止 3-2 18:00 补考 0');
    // Not yet open, so not what "the latest" means.
    await h.say(G, 'sec-wang', '测试 安排 1 党建 开始 3-5 09:00 截止 3-5 18:00');
    h.clock.set('2026-03-02T10:00:00Z');
    await advance(h, 0);
    const before = (await botSaid(h, dm('sec-wang'))).length;

    const inGroup = await h.say(G, 'sec-wang', '测试 结果');
    // The group hears one line and sees no names or scores.
    expect(inGroup.map((m) => m.text)).toEqual(['王书记，成绩含个人分数，已私信发给您。']);
    const results = (await botSaid(h, dm('sec-wang'))).slice(before);
    expect(results.at(-1)!.card!.header.title).toBe('闭卷测试 · 第2场 · 成绩');

    const exported = await h.say(G, 'sec-wang', '测试 导出 1');
    expect(exported.map((m) => m.text)).toEqual(['王书记，成绩含个人分数，已私信发给您。']);
    const card = await lastCard(h, dm('sec-wang'));
    expect(card!.card!.header.title).toBe('闭卷测试 · 第1场 · 成绩表');
    expect(card!.card!.elements.some((e) => e.type === 'link')).toBe(true);
    // Nothing in the group links to a file.
    expect(JSON.stringify(await h.transcript(G))).not.toContain('/files/');
  });

  it('gives a test without a title a name that is not its kind again', async () => {
    expect(await secretarySays(h, '测试 安排 2 截止 3-2 18:00')).toContain('第1场《3月2日学习测试》已开始');
    const [list] = await h.say(G, 'sec-wang', '测试 列表');
    expect(list!.text).toContain('第1场 闭卷测试《3月2日学习测试》');
    expect(list!.text).not.toContain('闭卷测试《闭卷测试》');
  });

  it('takes 截止 明天 18:00 as a reminder would, and changes a test before it opens', async () => {
    const set = await secretarySays(h, '测试 安排 2 党史 开始 明天 9点 截止 明天 18:00');
    expect(set).toContain('3月3日 09:00 开始，3月3日 18:00 截止，每人限时 30 分钟');

    const [changed] = await h.say(G, 'sec-wang', '测试 修改 1 截止 3-4 18:00 时长 20');
    expect(changed!.text).toBe('已修改第1场《党史闭卷测试》：3月3日 09:00 开始，3月4日 18:00 截止，每人限时 20 分钟。');
    const [bad] = await h.say(G, 'sec-wang', '测试 修改 1 截止 3-3 08:00');
    expect(bad!.text).toBe('截止时间必须晚于开始时间。');
    const [nothing] = await h.say(G, 'sec-wang', '测试 修改 1');
    expect(nothing!.text).toContain('请写上要改的内容');

    // It opens on the 3rd with the new time limit, and the old 18:00 close does not end it.
    h.clock.set('2026-03-03T01:00:00Z');
    await advance(h, 0);
    expect(JSON.stringify((await lastCard(h, dm('m-li')))!.card)).toContain('20 分钟');
    h.clock.set('2026-03-03T10:00:00Z');
    await advance(h, 0);
    const db = h.shuxiang.db.prisma;
    expect((await db.quizRound.findFirstOrThrow()).status).toBe('running');
    const [started] = await h.say(G, 'sec-wang', '测试 修改 1 时长 10');
    expect(started!.text).toBe('第1场已经开始，只能在开始前修改。如需停止，请发送「测试 取消 1」。');
    h.clock.set('2026-03-04T10:00:00Z');
    await advance(h, 0);
    expect((await db.quizRound.findFirstOrThrow()).status).toBe('closed');
    expect((await lastCard(h, dm('sec-wang')))!.card!.header.title).toBe('闭卷测试 · 第1场 · 成绩');
  });

  it('cancels a running test after a confirmation: the invited are told, nobody can answer, nothing closes later', async () => {
    await h.say(G, 'sec-wang', '测试 安排 2 党史 截止 3-2 18:00');
    const invite = (await lastCard(h, dm('m-li')))!;
    await h.click(dm('m-li'), 'm-li', invite, 'quiz.test.start');

    const [confirm] = await h.say(G, 'sec-wang', '测试 取消 1');
    expect(confirm!.card!.header.title).toBe('取消第1场闭卷测试？');
    expect(JSON.stringify(confirm!.card)).toContain('已通知 3 人，1 人已开始作答');
    // Nothing happened yet; a member cannot press the button.
    expect((await h.click(G, 'm-zhang', confirm!, 'quiz.test.cancel')).toast?.text).toContain('需要「书记」权限');
    expect((await h.shuxiang.db.prisma.quizRound.findFirstOrThrow()).status).toBe('running');

    const ack = await h.click(G, 'sec-wang', confirm!, 'quiz.test.cancel');
    expect(ack.toast?.text).toBe('已取消第1场测试，已通知 3 位收到过邀请的成员。');
    await h.shuxiang.worker.drain();
    for (const u of ['m-li', 'm-zhang', 'm-chen'])
      expect(await lastText(h, dm(u)), u).toBe('第1场闭卷测试《党史闭卷测试》已由书记取消，不用再作答了。');
    expect(await lastText(h, G)).toBe('第1场闭卷测试《党史闭卷测试》已取消。');

    // 李明 was mid-test: his answers are no longer taken.
    const [late] = await h.say(dm('m-li'), 'm-li', '答 B');
    expect(late!.text).toBe('您现在没有正在进行的测试。收到测试通知后，点击「开始答题」。');
    const [again] = await h.say(G, 'sec-wang', '测试 取消 1 确认');
    expect(again!.text).toBe('第1场已经取消了。');
    const [list] = await h.say(G, 'sec-wang', '测试 列表');
    expect(list!.text).toContain('已取消');

    // The close time passes: no results, no make-up, nothing in the group.
    const groupBefore = (await h.transcript(G)).length;
    h.clock.set('2026-03-02T10:00:00Z');
    await advance(h, 0);
    expect((await h.transcript(G)).length).toBe(groupBefore);
    expect(await h.shuxiang.db.prisma.quizRound.count()).toBe(1);
    const secretary = await botSaid(h, dm('sec-wang'));
    expect(secretary.some((m) => m.card?.header.title.includes('成绩'))).toBe(false);
    // 李明's attempt time-out was cancelled with the test, so it is not reported as missed either.
    expect(secretary.some((m) => m.text?.includes('错过'))).toBe(false);
    expect(await h.shuxiang.db.prisma.scheduledItem.count({ where: { status: 'active' } })).toBe(0);
  });

  it('answers bad change and cancel input precisely and changes nothing', async () => {
    await h.say(G, 'sec-wang', '测试 安排 1 党史 开始 3-3 09:00 截止 3-3 18:00');
    const cases: [string, string, string][] = [
      ['sec-wang', '测试 安排 1 截止 每周五 18:00', '「每周五 18:00」是重复的时间'],
      ['sec-wang', '测试 安排 1 截止 改天吧', '看不懂时间「改天吧」'],
      ['sec-wang', '测试 修改 9 截止 3-4 18:00', '没有第9场测试'],
      ['sec-wang', '测试 修改 1 时长 0', '限时要写 1 到 240 之间的分钟数'],
      ['sec-wang', '测试 修改 1 开始 3-1 09:00', '开始时间已经过去了'],
      ['sec-wang', '测试 修改 1 标题 新名字', '请写上要改的内容'],
      ['sec-wang', '测试 取消', '请写上测试的场次'],
      ['sec-wang', '测试 取消 1 马上', '请写上测试的场次'],
      ['m-li', '测试 取消 1 确认', '需要「书记」权限'],
    ];
    for (const [user, input, expected] of cases) {
      const [reply] = await h.say(G, user, input);
      expect(reply!.text, input).toContain(expected);
    }
    const round = await h.shuxiang.db.prisma.quizRound.findFirstOrThrow();
    expect(round).toMatchObject({ status: 'scheduled', opensAt: new Date('2026-03-03T01:00:00Z') });
    expect(await h.shuxiang.db.prisma.quizRound.count()).toBe(1);
  });

  it('cancels a scheduled test by typing 确认, before anyone was invited', async () => {
    await h.say(G, 'sec-wang', '测试 安排 2 党史 开始 3-3 09:00 截止 3-3 18:00');
    const done = await h.say(G, 'sec-wang', '测试 取消 1 确认');
    expect(done.map((m) => m.text)).toEqual([
      '第1场闭卷测试《党史闭卷测试》已取消。',
      '已取消第1场测试，已通知 0 位收到过邀请的成员。',
    ]);
    h.clock.set('2026-03-03T01:00:00Z');
    await advance(h, 0);
    expect(await h.transcript(dm('m-li'))).toHaveLength(0);
    const [closed] = await h.say(G, 'sec-wang', '测试 取消 1');
    expect(closed!.text).toBe('第1场已经取消了。');
  });
});

describe('a test deadline typed early in the morning (UTC date is still yesterday)', () => {
  it('reads 截止 明天 18:00 at 07:30 Beijing time as tomorrow in Beijing', async () => {
    const h = await createHarness({ env: QUIZ_ENV, clock: createManualClock('2026-03-01T23:30:00Z') });
    try {
      await seedQuestions(h.shuxiang.db.prisma);
      expect(await secretarySays(h, '测试 安排 1 截止 明天 18:00')).toContain('3月3日 18:00 截止');
    } finally {
      await h.close();
    }
  });
});
