import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createWorkingDays } from '../../src/features/calendar/working-days.ts';
import { createManualClock } from '../../src/lib/clock.ts';
import { createHarness, type Harness, type TranscriptMessage } from '../helpers/harness.ts';
import {
  advance,
  clickOption,
  correctChoice,
  SAMPLE,
  seedQuestions,
  wrongChoice,
  type FixtureQuestion,
  QUIZ_ENV,
} from '../helpers/quiz-fixtures.ts';

const G = 'group-a';

/** The fixture questions shown on a daily card, in order. */
function questionsOn(card: TranscriptMessage): FixtureQuestion[] {
  const text = JSON.stringify(card.card);
  return SAMPLE.filter((q) => text.includes(q.stem.replace(/"/g, '\\"'))).sort(
    (a, b) => text.indexOf(a.stem.replace(/"/g, '\\"')) - text.indexOf(b.stem.replace(/"/g, '\\"')),
  );
}

async function dailyCards(h: Harness): Promise<TranscriptMessage[]> {
  return (await h.transcript(G)).filter((m) => m.card?.header.title.startsWith('每日一练'));
}

/** Shanghai local "2026-02-12 09:00" → the instant. */
const sh = (local: string) => new Date(`${local.replace(' ', 'T')}:00+08:00`);

async function answerAll(h: Harness, user: string, card: TranscriptMessage, right: boolean[]) {
  const qs = questionsOn(card);
  const acks = [];
  for (const [i, ok] of right.entries()) {
    acks.push(await clickOption(h, G, user, card, ok ? correctChoice(qs[i]!) : wrongChoice(qs[i]!), i + 1));
  }
  return acks;
}

describe('daily practice (每日一练) across the 2026 Spring Festival', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness({ clock: createManualClock(sh('2026-02-12 08:00')), env: QUIZ_ENV });
    await seedQuestions(h.shuxiang.db.prisma);
  });
  afterEach(async () => {
    await h.close();
  });

  it('pushes on working days only (adjusted Saturday included), keeps streaks over the holiday, never repeats early', async () => {
    const [on] = await h.say(G, 'sec-wang', '每日一练 开启 09:00 2');
    expect(on!.text).toContain('每个工作日 09:00 推送 2 题');
    expect(on!.text).toContain('下一次：2月12日 09:00');

    const pushedOn: string[] = [];
    const seen: string[] = [];
    // Walk the calendar day by day at 09:00 and 23:59:59 and see when cards come.
    for (let d = 12; d <= 28; d++) {
      const day = `2026-02-${String(d).padStart(2, '0')}`;
      const before = (await dailyCards(h)).length;
      h.clock.set(sh(`${day} 09:00`));
      await advance(h, 0);
      const cards = await dailyCards(h);
      if (cards.length > before) {
        pushedOn.push(day);
        const card = cards[cards.length - 1]!;
        expect(card.card!.header.title).toBe(`每日一练 · 2月${d}日`);
        const qs = questionsOn(card);
        expect(qs).toHaveLength(2);
        seen.push(...qs.map((q) => q.stem));
        // 李明 does every day's practice; 张华 only on the 12th and the 14th.
        const li = await answerAll(h, 'm-li', card, [true, d !== 13]);
        expect(li[1]!.toast!.text).toContain('今天的题已全部完成');
        if (d === 12 || d === 14) await answerAll(h, 'm-zhang', card, [true, true]);
      }
      // The day's card closes at midnight with a summary.
      h.clock.set(sh(`${day} 23:59`));
      await advance(h, 61_000);
      if (d >= 26) break;
    }
    // 2-14 is an adjusted working Saturday; 2-15..2-23 is the Spring Festival holiday.
    expect(pushedOn).toEqual(['2026-02-12', '2026-02-13', '2026-02-14', '2026-02-24', '2026-02-25', '2026-02-26']);
    // Ten questions in the bank, two a day: the first five days use each question once.
    expect(new Set(seen.slice(0, 10)).size).toBe(10);

    const streak = await h.shuxiang.db.prisma.quizStreak.findFirstOrThrow({
      where: { memberId: 'demo-member-m-li' },
    });
    expect(streak.current).toBe(6);
    const zhang = await h.shuxiang.db.prisma.quizStreak.findFirstOrThrow({
      where: { memberId: 'demo-member-m-zhang' },
    });
    expect(zhang.current).toBe(1); // missed the 13th
    expect(zhang.best).toBe(1);

    const closed = (await dailyCards(h))[0]!;
    expect(closed.card!.header.colour).toBe('grey');
    expect(JSON.stringify(closed.card)).toContain('今日练习已结束。共 2 人参与');
  });

  it('gives private feedback by toast, refuses a second answer and answers after midnight', async () => {
    await h.say(G, 'sec-wang', '每日一练 开启 09:00 3');
    h.clock.set(sh('2026-02-12 09:00'));
    await advance(h, 0);
    const card = (await dailyCards(h))[0]!;
    const qs = questionsOn(card);
    const right = await clickOption(h, G, 'm-li', card, correctChoice(qs[0]!), 1);
    expect(right.toast!.kind).toBe('success');
    expect(right.toast!.text).toContain('第1题 回答正确！');
    expect(right.toast!.text).toContain(`解析：${qs[0]!.explanation}`);
    const wrong = await clickOption(h, G, 'm-li', card, wrongChoice(qs[1]!), 2);
    expect(wrong.toast!.text).toContain('第2题 回答错误，正确答案：');
    expect(wrong.toast!.text).toContain('已记入您的错题本');
    const dup = await clickOption(h, G, 'm-li', card, correctChoice(qs[1]!), 2);
    expect(dup.toast!.text).toBe('您已经答过这道题了，每题只能作答一次。');

    h.clock.set(sh('2026-02-13 00:00'));
    await advance(h, 1000);
    // At midnight the group card closes: no buttons are left to click.
    await expect(clickOption(h, G, 'm-zhang', card, correctChoice(qs[2]!), 3)).rejects.toThrow(/no such button/);
    expect(await h.shuxiang.db.prisma.quizAnswer.count({ where: { memberId: 'demo-member-m-zhang' } })).toBe(0);
  });

  it('re-asks wrong answers from the notebook privately until they are answered right', async () => {
    await h.say(G, 'sec-wang', '每日一练 开启 09:00 2');
    h.clock.set(sh('2026-02-12 09:00'));
    await advance(h, 0);
    const card = (await dailyCards(h))[0]!;
    const qs = questionsOn(card);
    await answerAll(h, 'm-zhang', card, [false, false]);

    const [reply] = await h.say(G, 'm-zhang', '错题');
    expect(reply!.text).toBe('张华，错题本已私聊发给您。');
    const book = (await h.transcript('dm-m-zhang')).find((m) => m.card?.header.title.startsWith('我的错题本'))!;
    expect(book.card!.header.title).toBe('我的错题本（2 题）');
    // Wrong again: stays, counted twice.
    // The first question shown: a click is found by its option key, and the first button with that key is its.
    const shown = JSON.stringify(book.card);
    const target = qs
      .filter((q) => shown.includes(q.stem))
      .sort((a, b) => shown.indexOf(a.stem) - shown.indexOf(b.stem))[0]!;
    const again = await clickOption(h, 'dm-m-zhang', 'm-zhang', book, wrongChoice(target), undefined);
    expect(again.toast!.text).toContain('还是不对，正确答案：');
    const right = await clickOption(h, 'dm-m-zhang', 'm-zhang', book, correctChoice(target), undefined);
    expect(right.toast!.text).toContain('答对了！已从错题本移除。');
    const updated = (await h.transcript('dm-m-zhang')).find((m) => m.messageId === book.messageId)!;
    expect(updated.card!.header.title).toBe('我的错题本（1 题）');
    // Reviews do not count towards the boards.
    expect(await h.shuxiang.db.prisma.quizAnswer.count({ where: { memberId: 'demo-member-m-zhang' } })).toBe(2);
  });

  it('answers bad daily settings precisely and can be switched off', async () => {
    const cases: [string, string, string][] = [
      ['m-li', '每日一练 开启 09:00', '需要「书记」权限'],
      ['sec-wang', '每日一练 开启', '请写上推送时间'],
      ['sec-wang', '每日一练 开启 25:00', '「25:00」不是有效的时间'],
      ['sec-wang', '每日一练 开启 09:00 50', '题数要在 1 到 20 之间'],
      ['sec-wang', '每日一练 开启 09:00 3 没有的标签', '题库里没有标签为「没有的标签」的题目'],
      ['sec-wang', '每日一练 关闭', '本群还没有开启每日一练'],
      ['sec-wang', '每日一练 跳舞', '不认识「跳舞」'],
    ];
    for (const [user, input, expected] of cases) {
      const [reply] = await h.say(G, user, input);
      expect(reply!.text, input).toContain(expected);
    }
    expect(await h.shuxiang.db.prisma.quizDailyPlan.count()).toBe(0);
    await h.say(G, 'sec-wang', 'daily on 9:30 2 private');
    const [status] = await h.say(G, 'sec-wang', 'daily status');
    expect(status!.text).toContain('09:30，2 题（全部题目，私聊发送）');
    const [off] = await h.say(G, 'sec-wang', '每日一练 关闭');
    expect(off!.text).toBe('本群的每日一练已关闭。');
    h.clock.set(sh('2026-02-12 09:30'));
    await advance(h, 0);
    expect(await dailyCards(h)).toHaveLength(0);
    expect(await h.shuxiang.db.prisma.quizRound.count()).toBe(0);
  });

  it('sends private cards to every member when the secretary chooses', async () => {
    await h.say(G, 'sec-wang', '每日一练 开启 09:00 1 私聊');
    h.clock.set(sh('2026-02-12 09:00'));
    await advance(h, 0);
    expect((await h.transcript(G)).some((m) => m.text?.includes('已私聊发给 4 位成员'))).toBe(true);
    const card = (await h.transcript('dm-m-chen')).find((m) => m.card?.header.title.startsWith('每日一练'))!;
    const [q] = questionsOn(card);
    const ack = await clickOption(h, 'dm-m-chen', 'm-chen', card, correctChoice(q!), 1);
    expect(ack.toast!.text).toContain('回答正确');
    // Her own card now shows her result instead of the buttons.
    const mine = (await h.transcript('dm-m-chen')).find((m) => m.messageId === card.messageId)!;
    expect(JSON.stringify(mine.card)).toContain('回答正确。');
    await expect(clickOption(h, 'dm-m-chen', 'm-chen', mine, correctChoice(q!), 1)).rejects.toThrow(/no control/);
    // Private cards keep their buttons; after midnight an answer from the closed round is refused.
    h.clock.set(sh('2026-02-13 00:00'));
    await advance(h, 1000);
    const late = (await h.transcript('dm-m-li')).find((m) => m.card?.header.title.startsWith('每日一练'))!;
    const refused = await clickOption(h, 'dm-m-li', 'm-li', late, correctChoice(q!), 1);
    expect(refused.toast!.text).toBe('第1场已经结束，不能再作答了。');
    expect(await h.shuxiang.db.prisma.quizAnswer.count({ where: { memberId: 'demo-member-m-li' } })).toBe(0);
  });
});

describe('daily practice at the end of the holiday calendar', () => {
  // Pinned to 2026 so the test keeps meaning the same when chinese-days gains 2027.
  const workingDays = createWorkingDays({ years: new Set([2026]) });
  let h: Harness;
  afterEach(async () => {
    await h.close();
  });

  it('starts a plan whose next working day is in a year without holiday data: it waits for the data', async () => {
    // After the last working day of 2026 the next one is in 2027, which this calendar does not cover.
    // Refusing sent secretaries away on 31 December with nothing they could do; the plan waits instead
    // and starts by itself when the year is imported (test/http/holiday-calendar.test.ts).
    h = await createHarness({ clock: createManualClock(sh('2026-12-31 10:00')), env: QUIZ_ENV, workingDays });
    await seedQuestions(h.shuxiang.db.prisma);
    const [reply] = await h.say(G, 'sec-wang', '每日一练 开启 09:00 2');
    expect(reply!.text).toContain('每日一练已开启');
    expect(reply!.text).toContain('还没有收录 2027 年的法定节假日安排');
    expect(reply!.text).toContain('节假日 导入');
    expect(await h.shuxiang.db.prisma.quizDailyPlan.count({ where: { enabled: true } })).toBe(1);
    const items = await h.shuxiang.db.prisma.scheduledItem.findMany({ where: { kind: { startsWith: 'quiz' } } });
    expect(items.map((i) => i.status)).toEqual(['stalled']);
    // Nothing is pushed while it waits.
    h.clock.set(sh('2027-01-04 09:00'));
    await advance(h, 0);
    expect(await dailyCards(h)).toEqual([]);
  });

  it("still pushes the last covered day's questions, then pauses and says why instead of guessing", async () => {
    h = await createHarness({ clock: createManualClock(sh('2026-12-30 10:00')), env: QUIZ_ENV, workingDays });
    await seedQuestions(h.shuxiang.db.prisma);
    const [on] = await h.say(G, 'sec-wang', '每日一练 开启 09:00 2');
    expect(on!.text).toContain('下一次：12月31日 09:00');
    h.clock.set(sh('2026-12-31 09:00'));
    await advance(h, 0);
    const cards = await dailyCards(h);
    expect(cards.map((c) => c.card!.header.title)).toEqual(['每日一练 · 12月31日']);
    const notes = (await h.transcript(G)).filter((m) => m.text?.includes('每日一练已暂停'));
    expect(notes).toHaveLength(1);
    expect(notes[0]!.text).toContain('2027 年');
    const [status] = await h.say(G, 'sec-wang', '每日一练 状态');
    // The plan stays on and waits for 2027 (test/http/holiday-calendar.test.ts: it resumes on import).
    expect(status!.text).toContain('下一次：-');
  });
});
