import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { countedRoundCache } from '../helpers/counted-round-cache.ts';
import { createManualClock } from '../../src/lib/clock.ts';
import { createHarness, type Harness, type TranscriptMessage } from '../helpers/harness.ts';
import {
  advance,
  clickOption,
  correctChoice,
  questionOn,
  QUIZ_ENV,
  SAMPLE,
  seedQuestions,
} from '../helpers/quiz-fixtures.ts';

/**
 * Answers are checked against a short-lived snapshot of the round
 * (src/features/quiz/round-cache.ts). What a member would notice if it were
 * wrong: a question that another instance has just opened refused as "not
 * open yet", or a voided question still taking answers.
 */
const G = 'group-a';
const sh = (local: string) => new Date(`${local.replace(' ', 'T')}:00+08:00`);
const singles = SAMPLE.filter((q) => q.type === 'single' && q.tags?.includes('党史'));

function answerButton(card: TranscriptMessage) {
  for (const el of card.card?.elements ?? []) {
    if (el.type === 'buttons' && el.buttons[0]) return el.buttons[0];
  }
  throw new Error('no answer button');
}

describe('answers against a cached round', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness({ clock: createManualClock(sh('2026-03-02 08:00')), env: QUIZ_ENV });
    await seedQuestions(h.shuxiang.db.prisma, singles);
  });
  afterEach(async () => {
    await h.close();
  });

  it('takes an answer to a question another instance opened a moment ago', async () => {
    const [first] = await h.say(G, 'sec-wang', '出题 2 党史');
    const recorded = await clickOption(h, G, 'm-li', first!, correctChoice(questionOn(first!)));
    expect(recorded.toast?.text).toContain('已记录您的答案');

    // The snapshot behind that answer has question 2 pending. Another instance's scheduler
    // now opens it (written straight to the database, as that instance would).
    const button = answerButton(first!);
    const roundId = String(button.payload.r);
    const now = h.clock.now();
    await h.shuxiang.db.prisma.quizRoundQuestion.updateMany({
      where: { roundId, position: 1 },
      data: { status: 'closed' },
    });
    await h.shuxiang.db.prisma.quizRoundQuestion.updateMany({
      where: { roundId, position: 2 },
      data: { status: 'open', openedAt: now, deadline: new Date(now.getTime() + 20_000) },
    });
    // Typed, because this instance never posted question 2's card.
    // Acknowledged in 张华's private chat, not in the group.
    expect(await h.say(G, 'm-zhang', '答 A')).toEqual([]);
    expect((await h.transcript('dm-m-zhang')).at(-1)!.text).toContain('第1场第2题：已记录您的答案');
    await h.shuxiang.bot.settle(); // fold the answer journal before reading its tables
    expect(await h.shuxiang.db.prisma.quizAnswer.count({ where: { roundId, position: 2 } })).toBe(1);
  });

  it('refuses answers to a question the moment a secretary voids it', async () => {
    await h.say(G, 'sec-wang', '每日一练 开启 09:00 3');
    h.clock.set(sh('2026-03-02 09:00'));
    await advance(h, 0);
    const card = (await h.transcript(G)).find((m) => m.card?.header.title.startsWith('每日一练'))!;
    // 李明 answers: the round is now cached in this process.
    const first = await clickOption(h, G, 'm-li', card, 'A', 1);
    expect(first.toast?.kind).not.toBe('error');
    const seq = (await h.shuxiang.db.prisma.quizRound.findFirstOrThrow({ where: { kind: 'daily' } })).seq;
    const [voided] = await h.say(G, 'sec-wang', `作废 ${seq} 1`);
    expect(voided!.text ?? JSON.stringify(voided!.card)).toContain('作废');
    const late = await clickOption(h, G, 'm-zhang', card, 'A', 1);
    expect(late.toast?.text).toBe('这道题已被作废，不用作答。');
    expect(await h.shuxiang.db.prisma.quizAnswer.count({ where: { memberId: 'demo-member-m-zhang' } })).toBe(0);
  });

  it('keeps an expired snapshot nothing changed, and sees what another instance changed once it expires', async () => {
    await h.say(G, 'sec-wang', '每日一练 开启 09:00 3');
    h.clock.set(sh('2026-03-02 09:00'));
    await advance(h, 0);
    const { db: database } = h.shuxiang;
    const round = await database.prisma.quizRound.findFirstOrThrow({ where: { kind: 'daily' } });
    const { cache, reads, advance: later } = countedRoundCache(database);
    const first = await cache.get(round.id);
    expect(first?.positions.get(2)?.status).toBe('open');
    later(5_000);
    expect(await cache.get(round.id)).toBe(first);
    expect(reads()).toBe(1);

    // Another instance voids question 2 and edits question 3's text.
    await database.prisma.quizRoundQuestion.updateMany({
      where: { roundId: round.id, position: 2 },
      data: { status: 'voided' },
    });
    expect((await cache.get(round.id))?.positions.get(2)?.status).toBe('open'); // within the time-to-live
    later(5_000);
    expect((await cache.get(round.id))?.positions.get(2)?.status).toBe('voided');
    const q3 = (await cache.get(round.id))!.positions.get(3)!.questionId;
    await database.prisma.question.update({ where: { id: q3 }, data: { stem: '改过的题干' } });
    later(5_000);
    expect((await cache.get(round.id))?.positions.get(3)?.question?.stem).toBe('改过的题干');
  });
});
