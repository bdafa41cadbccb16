import { normalizeAnswer } from './normalize.ts';
import type { QuestionDraft } from './types.ts';

/**
 * Judges a member's response against a question. Shared with the contest,
 * daily-practice and test features so that "what counts as correct" lives in
 * one place. A response is what the member typed (`答 B`, `答 对`, `答 三会一课`)
 * or the option values a card submitted.
 */
export function isCorrect(q: Pick<QuestionDraft, 'type' | 'answer' | 'options'>, response: string | string[]): boolean {
  const parsed = parseResponse(q, response);
  if (parsed === null) return false;
  if (q.type === 'fill') {
    const accepted = new Set(q.answer.map(normalizeAnswer));
    return parsed.length === 1 && accepted.has(parsed[0]!);
  }
  return parsed.length === q.answer.length && parsed.every((k, i) => k === q.answer[i]);
}

const TRUE_WORDS = new Set(['对', '正确', '是', '√', '✓', '✔', 'true', 't', 'yes', 'y', '1', 'ok']);
const FALSE_WORDS = new Set(['错', '错误', '否', '不对', '×', '✗', '✘', 'x', 'false', 'f', 'no', 'n', '0']);

/** Reads a truefalse word in any of the usual spellings; null when it is none of them. */
export function parseTrueFalse(text: string): boolean | null {
  const t = text.normalize('NFKC').trim().toLowerCase();
  if (TRUE_WORDS.has(t)) return true;
  if (FALSE_WORDS.has(t)) return false;
  return null;
}

/**
 * The response in the stored answer's shape: sorted option keys, ["true"] /
 * ["false"], or the normalised fill text. Null when it cannot be read (for
 * instance a letter the question does not have), so callers can ask again
 * instead of counting a typo as a wrong answer.
 */
export function parseResponse(
  q: Pick<QuestionDraft, 'type' | 'options'>,
  response: string | string[],
): string[] | null {
  const raw = Array.isArray(response) ? response.join(',') : response;
  if (q.type === 'fill') {
    const n = normalizeAnswer(raw);
    return n ? [n] : null;
  }
  if (q.type === 'truefalse') {
    const tf = parseTrueFalse(raw);
    return tf === null ? null : [String(tf)];
  }
  const letters = raw
    .normalize('NFKC')
    .toUpperCase()
    .replace(/[\s,;、|/，；]+/g, '');
  if (!/^[A-Z]+$/.test(letters)) return null;
  const keys = [...new Set(letters)].sort();
  const known = new Set(q.options.map((o) => o.key));
  if (!keys.every((k) => known.has(k))) return null;
  return keys;
}
