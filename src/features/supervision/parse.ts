import { UserError } from '../../bot/errors.ts';
import { MAX_CHECKLIST, MAX_TITLE } from './tasks.ts';
import { parseDeadline } from './time.ts';

/**
 * The words of `任务 新建`: a title (quoted when it has spaces), then in any
 * order the deadline, @-assignees, a checklist and the escalation limit.
 */
const DUE_WORDS = new Set(['截止', '截至', '期限', 'due', 'deadline', 'by']);
const CHECKLIST_WORDS = new Set(['清单', 'items', 'checklist']);
const ESCALATE_WORDS = new Set(['升级', 'escalate']);
export const DEFAULT_ESCALATE = 3;

export function splitChecklist(text: string): string[] {
  const items = text
    .split(/[;；|\n]/)
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length > MAX_CHECKLIST || items.some((i) => i.length > 50)) {
    throw new UserError('supervision.checklist.invalid', { max: MAX_CHECKLIST });
  }
  return items;
}

export function checkTitle(title: string): string {
  const trimmed = title.trim();
  if (!trimmed) throw new UserError('supervision.title.missing');
  if (trimmed.length > MAX_TITLE)
    throw new UserError('supervision.title.too_long', { length: trimmed.length, max: MAX_TITLE });
  return trimmed;
}

export function parseEscalate(word: string | undefined): number {
  const n = Number(word?.normalize('NFKC'));
  if (!Number.isInteger(n) || n < 1 || n > 30) throw new UserError('supervision.escalate.invalid');
  return n;
}

/** `"标题" 截止 12-20 [17:00] @单位 @成员 [清单 "a；b"] [升级 3]`, in any order after the title. */
export function parseTaskWords(
  tokens: string[],
  now: Date,
  tz: string,
  usage: string,
): { title: string; due: Date; checklist: string[]; escalateAfter: number; who: string[] } {
  const titleWords: string[] = [];
  const who: string[] = [];
  const stray: string[] = [];
  let due: Date | undefined;
  let checklist: string[] = [];
  let escalateAfter = DEFAULT_ESCALATE;
  for (let i = 0; i < tokens.length; i++) {
    const word = tokens[i]!;
    const key = word.normalize('NFKC').toLowerCase();
    if (DUE_WORDS.has(key)) {
      const parsed = parseDeadline(tokens.slice(i + 1), now, tz);
      due = parsed.at;
      i += parsed.used;
    } else if (CHECKLIST_WORDS.has(key)) {
      checklist = splitChecklist(tokens[i + 1] ?? '');
      i += 1;
    } else if (ESCALATE_WORDS.has(key)) {
      escalateAfter = parseEscalate(tokens[i + 1]);
      i += 1;
    } else if (/^[@＠]/.test(word)) {
      who.push(word);
    } else if (due === undefined && who.length === 0 && stray.length === 0) {
      titleWords.push(word);
    } else {
      stray.push(word);
    }
  }
  const title = checkTitle(titleWords.join(' '));
  if (stray.length) throw new UserError('supervision.extra', { words: stray.join(' ').slice(0, 40), usage });
  if (!due) throw new UserError('supervision.due.missing');
  return { title, due, checklist, escalateAfter, who };
}
