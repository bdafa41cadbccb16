import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/lib/clock.ts';
import { createHarness, type Harness, type TranscriptMessage } from '../helpers/harness.ts';
import { advance, clickOption, QUIZ_ENV, SAMPLE, seedQuestions } from '../helpers/quiz-fixtures.ts';

/**
 * Answers are acknowledged once appended to the answer journal and folded
 * behind it (src/features/quiz/answer-journal.ts). What a member would notice
 * if a reader forgot to settle the journal first: an answer just
 * acknowledged missing from a board, or still counting after a void.
 */
const G = 'group-a';
const sh = (local: string) => new Date(`${local.replace(' ', 'T')}:00+08:00`);
const singles = SAMPLE.filter((q) => q.type === 'single' && q.tags?.includes('党史'));

describe('the answer journal, seen from the chat', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness({ clock: createManualClock(sh('2026-03-02 08:00')), env: QUIZ_ENV });
    await seedQuestions(h.shuxiang.db.prisma, singles);
  });
  afterEach(async () => {
    await h.close();
  });

  /** Today's daily card, and the right and a wrong option of its first question. */
  async function dailyCard(): Promise<{ card: TranscriptMessage; right: string; wrong: string; seq: number }> {
    await h.say(G, 'sec-wang', '每日一练 开启 09:00 3');
    h.clock.set(sh('2026-03-02 09:00'));
    await advance(h, 0);
    const card = (await h.transcript(G)).find((m) => m.card?.header.title.startsWith('每日一练'))!;
    const db = h.shuxiang.db.prisma;
    const round = await db.quizRound.findFirstOrThrow({ where: { kind: 'daily' } });
    const rq = await db.quizRoundQuestion.findFirstOrThrow({ where: { roundId: round.id, position: 1 } });
    const q = await db.question.findUniqueOrThrow({ where: { id: rq.questionId } });
    const right = (JSON.parse(q.answer) as string[])[0]!;
    const wrong = (JSON.parse(q.options) as { key: string }[]).map((o) => o.key).find((k) => k !== right)!;
    return { card, right, wrong, seq: round.seq };
  }

  const unfolded = () => h.shuxiang.db.prisma.quizJournal.count();

  it('shows an answer acknowledged a moment ago on the board and in the star learner', async () => {
    const { card, right } = await dailyCard();
    const ack = await clickOption(h, G, 'm-zhang', card, right, 1);
    expect(ack.toast?.text).toContain('第1题 回答正确');
    // Acknowledged but not folded: the board must fold it before it reads.
    expect(await unfolded()).toBe(1);
    await h.say(G, 'm-zhang', '排行榜');
    const board = (await h.transcript('dm-m-zhang')).filter((m) => m.card).at(-1)!;
    expect(JSON.stringify(board.card)).toContain('您本周排第 1 名，答对 1 题。');
    expect(await unfolded()).toBe(0);
    await clickOption(h, G, 'm-li', card, right, 1);
    const [star] = await h.say(G, 'm-chen', '学习之星');
    expect(JSON.stringify(star!.card)).toContain('张华：全年答对 1 题');
  });

  it('voids a question whose answers are still in the journal: they stop counting', async () => {
    const { card, right, wrong, seq } = await dailyCard();
    await clickOption(h, G, 'm-zhang', card, right, 1);
    await clickOption(h, G, 'm-li', card, wrong, 1);
    expect(await unfolded()).toBe(2);
    const replies = await h.say(G, 'sec-wang', `作废 ${seq} 1`);
    expect(replies.find((m) => m.text)!.text).toContain(`已作废第${seq}场第1题，涉及 2 人的成绩已重新计算`);
    const db = h.shuxiang.db.prisma;
    expect(await db.quizAnswer.count({ where: { voided: false } })).toBe(0);
    expect(await db.quizTally.count({ where: { scope: 'member' } })).toBe(0);
    // 李明's wrong answer to a voided question is not a mistake to review.
    expect(await db.quizMistake.count()).toBe(0);
    const again = await clickOption(h, G, 'm-chen', card, right, 1);
    expect(again.toast?.text).toBe('这道题已被作废，不用作答。');
    await h.say(G, 'm-zhang', '排行榜');
    const board = (await h.transcript('dm-m-zhang')).filter((m) => m.card).at(-1)!;
    expect(JSON.stringify(board.card)).toContain('这一时段还没有人答题');
  });

  it('refuses a second answer to a question whose first is already folded', async () => {
    const { card, right, wrong } = await dailyCard();
    await clickOption(h, G, 'm-zhang', card, right, 1);
    await h.shuxiang.bot.settle();
    expect(await unfolded()).toBe(0);
    const second = await clickOption(h, G, 'm-zhang', card, wrong, 1);
    expect(second.toast?.text).toBe('您已经答过这道题了，每题只能作答一次。');
    // Nothing of the refused answer is left behind for the fold.
    expect(await unfolded()).toBe(0);
    await h.shuxiang.bot.settle();
    const tally = await h.shuxiang.db.prisma.quizTally.findFirstOrThrow({
      where: { scope: 'member', subjectId: 'demo-member-m-zhang', period: { startsWith: 'Y' } },
    });
    expect(tally).toMatchObject({ correct: 1, answered: 1 });
  });
});
