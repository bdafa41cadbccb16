import { createHash } from 'node:crypto';
import type { QuestionDraft } from './types.ts';

/**
 * Normalisation for comparing what people type. NFKC folds full-width
 * letters, digits and punctuation to half-width (ＡＢＣ１２３ → ABC123,
 * ，→ ,); then case, whitespace (including the ideographic space) and
 * punctuation (\p{P}: 《》“”，。、·…) are dropped. Symbols (\p{S}: + = ×)
 * are kept because they carry meaning in answers like "3+5".
 */
export function normalizeAnswer(text: string): string {
  return (
    text
      .normalize('NFKC')
      .toLowerCase()
      // A decimal point between digits is part of a number (3.5 is not 35).
      .replace(/(?<!\d)\.|\.(?!\d)/g, '')
      .replace(/[\s\p{P}]/gu, (c) => (c === '.' ? c : ''))
  );
}

/** The same fold for duplicate detection, which also ignores blank markers like ＿＿ and （ ）. */
export function normalizeForFingerprint(text: string): string {
  return normalizeAnswer(text).replace(/[_＿]+/g, '');
}

/**
 * Two rows are the same question when their stems and option texts match
 * after normalisation, whatever the option order, the answer, the type or
 * the tags. Options are part of it because generic stems ("下列说法正确的是")
 * are shared by different questions.
 */
export function fingerprint(q: Pick<QuestionDraft, 'stem' | 'options'>): string {
  const options = q.options.map((o) => normalizeForFingerprint(o.text)).sort();
  return createHash('sha256')
    .update([normalizeForFingerprint(q.stem), ...options].join('\u0001'))
    .digest('hex');
}

/** Trims and collapses runs of spaces inside a cell, keeping line breaks in long text. */
export function tidyText(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((line) => line.replace(/[ \t\u3000]+/g, ' ').trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
