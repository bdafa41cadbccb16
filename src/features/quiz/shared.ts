import type { FeatureDeps } from '../../bot/feature.ts';
import type { MessageKey, MessageParams } from '../../bot/messages.ts';
import type { Db, Tx } from '../../lib/db.ts';
import type { CardElement } from '../../platforms/types.ts';
import type { AnswerStore } from './answer-store.ts';
import type { QuizQuestion } from './questions.ts';

/** What every part of the quiz feature is built from: the kit's dependencies and the answer store. */
export type QuizDeps = FeatureDeps & { answers: AnswerStore };

const TYPE_LABEL_KEYS: Record<QuizQuestion['type'], MessageKey> = {
  single: 'quiz.qtype.single',
  multiple: 'quiz.qtype.multiple',
  truefalse: 'quiz.qtype.truefalse',
  fill: 'quiz.qtype.fill',
};

export function typeLabel(t: (k: MessageKey, p?: MessageParams) => string, q: QuizQuestion): string {
  return t(TYPE_LABEL_KEYS[q.type]);
}

/** How many blanks a fill-in question has (1 for any other type). */
export function blankCount(q: Pick<QuizQuestion, 'type' | 'answer'>): number {
  return q.type === 'fill' ? Math.max(1, q.answer.length) : 1;
}

/** The line on a question card saying how to answer it, matching its controls. */
export function answerHint(t: (k: MessageKey, p?: MessageParams) => string, q: QuizQuestion): string {
  if (q.type === 'fill' && blankCount(q) > 1) return t('quiz.card_hint.fill_blanks', { n: blankCount(q) });
  return t(`quiz.card_hint.${q.type}`);
}

/**
 * The answer controls of a question: one button per option for single
 * choice and true/false (one click answers), a multi-select with a submit
 * for multiple choice (the options' texts are on the card already, so the
 * boxes carry only their letters), a text input for fill-in, one per blank.
 * What was chosen travels as `c` in the payload or in the form values
 * (`c1`, `c2`… for the blanks of a fill-in with several).
 */
export function answerControls(
  q: QuizQuestion,
  actionId: string,
  payload: Record<string, unknown>,
  t: (k: MessageKey, p?: MessageParams) => string,
): CardElement[] {
  if (q.type === 'single') {
    return [
      {
        type: 'buttons',
        buttons: q.options.map((o) => ({
          text: o.key,
          style: 'default' as const,
          actionId,
          payload: { ...payload, c: o.key },
        })),
      },
    ];
  }
  if (q.type === 'truefalse') {
    return [
      {
        type: 'buttons',
        buttons: [
          { text: t('quiz.tf.true'), style: 'default', actionId, payload: { ...payload, c: 'true' } },
          { text: t('quiz.tf.false'), style: 'default', actionId, payload: { ...payload, c: 'false' } },
        ],
      },
    ];
  }
  if (q.type === 'multiple') {
    return [
      {
        type: 'choice',
        name: 'c',
        multiple: true,
        options: q.options.map((o) => ({ value: o.key, text: o.key })),
        submitText: t('quiz.submit'),
        actionId,
        payload,
      },
    ];
  }
  const blanks = blankCount(q);
  const inputs =
    blanks === 1
      ? [{ name: 'c', label: t('quiz.fill.label'), placeholder: t('quiz.fill.placeholder'), multiline: false }]
      : Array.from({ length: blanks }, (_, i) => ({
          name: `c${i + 1}`,
          label: t('quiz.fill.blank_label', { n: i + 1 }),
          placeholder: t('quiz.fill.blank_placeholder', { n: i + 1 }),
          multiline: false,
        }));
  return [
    {
      type: 'form',
      inputs,
      submitText: t('quiz.submit'),
      actionId,
      payload,
    },
  ];
}

/** What a click carried: the option in the payload, or the form's value(s): one per blank, in order. */
export function rawChoice(payload: { c?: string }, formValues?: Record<string, unknown>): string | string[] | null {
  if (payload.c !== undefined) return payload.c;
  const blanks = Object.keys(formValues ?? {})
    .map((k) => /^c(\d+)$/.exec(k)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
  if (blanks.length > 0) {
    return Array.from({ length: blanks[blanks.length - 1]! }, (_, i) => {
      const v = formValues![`c${i + 1}`];
      return typeof v === 'string' ? v : '';
    });
  }
  const v = formValues?.c;
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  return null;
}

export async function namesOf(db: Db | Tx, memberIds: string[]): Promise<Map<string, string>> {
  const rows = await db.member.findMany({
    where: { id: { in: [...new Set(memberIds)] } },
    select: { id: true, displayName: true },
  });
  return new Map(rows.map((r) => [r.id, r.displayName]));
}
