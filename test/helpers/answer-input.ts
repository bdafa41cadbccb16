import type { AnswerInput } from '../../src/features/quiz/answer-store.ts';

/** One recorded answer for the store and journal tests: member m1's right answer A at 10:00 Beijing. */
export function answerInput(over: Partial<AnswerInput>): AnswerInput {
  return {
    orgId: 'org',
    roundId: 'r1',
    questionId: 'q1',
    position: 1,
    memberId: 'm1',
    unitId: 'u1',
    response: ['A'],
    correct: true,
    points: 100,
    elapsedMs: 1000,
    answeredAt: new Date('2026-03-02T02:00:00Z'),
    timezone: 'Asia/Shanghai',
    ...over,
  };
}
