import { normalizeAnswer } from './normalize.ts';
import { fillBlanks, type QuestionDraft } from './types.ts';

/**
 * A member's fill-in response as one text per blank. A form sends one value
 * per blank; typed text is split on ；/;/|/line breaks, or on spaces when
 * that is what gives the question's number of blanks (`答 全面的 系统的`). A
 * one-blank question takes the whole text. Null when a blank is missing.
 */
export function fillResponse(blankCount: number, response: string | string[]): string[] | null {
  let parts: string[];
  if (Array.isArray(response)) parts = response.map((r) => r.trim());
  else if (blankCount <= 1) parts = [response.trim()];
  else {
    parts = response
      .split(/[;；|｜\n]+/)
      .map((x) => x.trim())
      .filter(Boolean);
    if (parts.length === 1) parts = response.trim().split(/\s+/);
  }
  if (parts.length === 0 || parts.some((p) => normalizeAnswer(p) === '')) return null;
  // Half an answer is not read as a (wrong) answer: the member is asked for every blank.
  if (blankCount > 1 && parts.length !== blankCount) return null;
  return parts;
}

/** Right only when every blank is filled with one of its accepted answers, in order. */
export function fillCorrect(answer: readonly string[], response: readonly string[]): boolean {
  const blanks = fillBlanks(answer);
  return (
    blanks.length === response.length &&
    blanks.every((accepted, i) => accepted.some((a) => normalizeAnswer(a) === normalizeAnswer(response[i]!)))
  );
}

/**
 * Judges a member's response against a question. Shared with the contest,
 * daily-practice and test features so that "what counts as correct" lives in
 * one place. A response is what the member typed (`答 B`, `答 对`, `答 三会一课`)
 * or the option values a card submitted.
 */
export function isCorrect(q: Pick<QuestionDraft, 'type' | 'answer' | 'options'>, response: string | string[]): boolean {
  const parsed = parseResponse(q, response);
  if (parsed === null) return false;
  if (q.type === 'fill') return fillCorrect(q.answer, parsed);
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
 * ["false"], or one text per blank for fill. Null when it cannot be read (for
 * instance a letter the question does not have), so callers can ask again
 * instead of counting a typo as a wrong answer.
 */
export function parseResponse(
  q: Pick<QuestionDraft, 'type' | 'options'> & { answer?: string[] },
  response: string | string[],
): string[] | null {
  const raw = Array.isArray(response) ? response.join(',') : response;
  if (q.type === 'fill') return fillResponse(q.answer?.length ?? 1, response);
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
