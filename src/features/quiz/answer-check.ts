/**
 * Pure answer checking shared by contests, daily practice and tests.
 * Fill-in answers are compared after the question bank's normalisation
 * (bank/normalize.ts), so that 「１９２１年」, "1921 年" and "1921年。" all
 * match "1921年" while "3+5" stays different from "35": what the bank
 * accepts on import and what play marks correct are one rule.
 */
import { fillCorrect, fillResponse, parseTrueFalse as parseTrueFalseWord } from './bank/answer-check.ts';
import { normalizeAnswer } from './bank/normalize.ts';
import { fillBlanks } from './bank/types.ts';

export type QuestionType = 'single' | 'multiple' | 'truefalse' | 'fill';

export interface CheckableQuestion {
  type: QuestionType;
  /**
   * Option keys for choice questions, ["true"]/["false"], or for fill one
   * string per blank with its accepted answers joined by | (bank/types.ts).
   */
  answer: string[];
  /** Option keys offered, for choice questions. */
  optionKeys?: string[];
}

export const normalizeFill = normalizeAnswer;

/** "对"/"错"/"√"/"false"... → "true" | "false" | null. */
export function parseTrueFalse(text: string): 'true' | 'false' | null {
  const v = parseTrueFalseWord(text);
  if (v !== null) return v ? 'true' : 'false';
  // The card's buttons read 正确, 错误 in that order: people who count them type A or B.
  return TF_LETTERS[text.normalize('NFKC').trim().toUpperCase()] ?? null;
}

const TF_LETTERS: Record<string, 'true' | 'false'> = { A: 'true', B: 'false' };

/**
 * Option letters from typed text: "B", "ｂ", "A,C", "A C", "ac", "A、C".
 * Returns null when something other than option letters is present.
 */
export function parseChoiceKeys(text: string, optionKeys: string[]): string[] | null {
  const cleaned = text
    .normalize('NFKC')
    .toUpperCase()
    .replace(/[\s,，、;；.。/:：|]+/g, '');
  if (cleaned.length === 0) return null;
  const keys = [...cleaned];
  if (!keys.every((k) => optionKeys.includes(k))) return null;
  return [...new Set(keys)].sort();
}

/**
 * Turns what a member typed or clicked into a canonical response, or null
 * when it cannot be an answer to this question (e.g. "E" on an A–D question).
 */
export function parseResponse(q: CheckableQuestion, raw: string | string[]): string[] | null {
  if (q.type === 'fill') return fillResponse(q.answer.length, raw);
  if (q.type === 'truefalse') {
    const v = parseTrueFalse(Array.isArray(raw) ? (raw[0] ?? '') : raw);
    return v ? [v] : null;
  }
  const keys = parseChoiceKeys(Array.isArray(raw) ? raw.join('') : raw, q.optionKeys ?? []);
  if (!keys) return null;
  if (q.type === 'single' && keys.length !== 1) return null;
  return keys;
}

/** True when a parsed response is right: exact key set for choices, an accepted answer in every blank for fill. */
export function isCorrect(q: CheckableQuestion, response: string[]): boolean {
  if (q.type === 'fill') return fillCorrect(q.answer, response);
  const want = [...new Set(q.answer.map((a) => (q.type === 'truefalse' ? a.toLowerCase() : a.toUpperCase())))].sort();
  const got = [...new Set(response)].sort();
  return want.length === got.length && want.every((k, i) => k === got[i]);
}

/**
 * Human form of an answer: "B", "A、C", "正确"/"错误", or for fill the
 * blanks separated by ；, each blank's accepted answers by " / ".
 */
export function describeAnswer(q: CheckableQuestion, answer: string[] = q.answer): string {
  if (q.type === 'truefalse') return answer[0] === 'true' ? '正确' : '错误';
  if (q.type === 'fill')
    return fillBlanks(answer)
      .map((accepted) => accepted.join(' / '))
      .join('；');
  return [...answer].sort().join('、');
}
