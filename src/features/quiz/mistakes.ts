import type { MessageKey, MessageParams } from '../../bot/messages.ts';
import { memberText } from '../../platforms/text.ts';
import type { Card } from '../../platforms/types.ts';
import { describeAnswer, isCorrect, parseResponse } from './answer-check.ts';
import { quizNoticeCard } from './cards.ts';
import { loadQuestions } from './questions.ts';
import { answerControls, typeLabel, type QuizDeps } from './shared.ts';
import { UserError } from '../../bot/errors.ts';

/**
 * The wrong-answer notebook (错题本): every question a member got wrong, by
 * topic, re-asked privately until they answer it right. Review answers do
 * not count towards the boards (no farming points on known questions).
 */
export const REVIEW_BATCH = 3;

export function createMistakes(deps: QuizDeps) {
  const { db, clock, cards, messages } = deps;
  const t = (k: MessageKey, p?: MessageParams) => messages.t(k, p);

  async function card(orgId: string, memberId: string, feedback = ''): Promise<Card> {
    await deps.answers.settle();
    const rows = await db.quizMistake.findMany({
      where: { orgId, memberId },
      orderBy: [{ wrongCount: 'desc' }, { lastWrongAt: 'desc' }, { questionId: 'asc' }],
    });
    if (rows.length === 0) {
      return quizNoticeCard(cards, {
        title: t('quiz.mistakes.title', { count: 0 }),
        colour: 'green',
        text: [feedback, t('quiz.mistakes.empty')].filter(Boolean).join('\n'),
      });
    }
    const tags = await db.questionTag.findMany({ where: { questionId: { in: rows.map((r) => r.questionId) } } });
    const byTag = new Map<string, number>();
    for (const r of rows) {
      const mine = tags.filter((x) => x.questionId === r.questionId).map((x) => x.tag);
      for (const tag of mine.length ? mine : [t('quiz.mistakes.untagged')]) byTag.set(tag, (byTag.get(tag) ?? 0) + 1);
    }
    const shown = rows.slice(0, REVIEW_BATCH);
    const qs = await loadQuestions(
      db,
      shown.map((r) => r.questionId),
    );
    const controls = shown.flatMap((r, i) => {
      const q = qs.get(r.questionId);
      if (!q) return [];
      return [
        { type: 'divider' },
        {
          type: 'markdown',
          text: t('quiz.mistakes.question', {
            n: i + 1,
            type: typeLabel(t, q),
            // This element is built here, not by a template: the bank's text is marked as such.
            stem: memberText(q.stem),
            options: q.options.map((o) => `\n${o.key}. ${memberText(o.text)}`).join(''),
          }),
        },
        { type: 'note', text: t('quiz.mistakes.times', { n: r.wrongCount }) },
        ...answerControls(q, 'quiz.review', { v: 1, q: q.id }, t),
      ];
    });
    return quizNoticeCard(cards, {
      title: t('quiz.mistakes.title', { count: rows.length }),
      colour: 'orange',
      text: [feedback, t('quiz.mistakes.intro', { shown: shown.length })].filter(Boolean).join('\n'),
      fields: [...byTag.entries()].map(([label, n]) => ({ label, value: t('quiz.mistakes.count', { n }) })),
      controls,
    });
  }

  return {
    card,
    async review(orgId: string, memberId: string, questionId: string, raw: string | string[] | null) {
      await deps.answers.settle();
      const mistake = await db.quizMistake.findUnique({ where: { memberId_questionId: { memberId, questionId } } });
      if (!mistake || mistake.orgId !== orgId) throw new UserError('quiz.mistakes.gone');
      const q = (await loadQuestions(db, [questionId])).get(questionId);
      if (!q) throw new UserError('quiz.mistakes.gone');
      const response = raw === null ? null : parseResponse(q, raw);
      if (!response) throw new UserError('quiz.answer.empty', { hint: '' });
      const explanation = q.explanation ? t('quiz.explanation', { text: q.explanation }) : '';
      if (isCorrect(q, response)) {
        await db.quizMistake.deleteMany({ where: { memberId, questionId } });
        const text = [t('quiz.mistakes.right'), explanation].filter(Boolean).join('\n');
        return {
          toast: { kind: 'success' as const, text },
          card: await card(orgId, memberId, t('quiz.mistakes.right')),
        };
      }
      await db.quizMistake.update({
        where: { memberId_questionId: { memberId, questionId } },
        data: { wrongCount: { increment: 1 }, lastWrongAt: clock.now() },
      });
      const text = [t('quiz.mistakes.wrong', { answer: describeAnswer(q) }), explanation].filter(Boolean).join('\n');
      return { toast: { kind: 'warning' as const, text }, card: null };
    },
  };
}

export type Mistakes = ReturnType<typeof createMistakes>;
