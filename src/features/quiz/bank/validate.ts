import { parseTrueFalse } from './answer-check.ts';
import { normalizeAnswer, normalizeForFingerprint, tidyText } from './normalize.ts';
import type { ImportProblem } from './problems.ts';
import {
  ALTERNATIVES_JOIN,
  LIMITS,
  OPTION_KEYS,
  type QuestionDraft,
  type QuestionOption,
  type QuestionType,
} from './types.ts';

/**
 * One question as read from a file, before validation: cells as text (CSV,
 * XLSX) or JSON values. `options` keeps empty cells so gaps can be reported.
 */
export interface RawQuestion {
  line: number;
  type?: unknown;
  stem?: unknown;
  options: { key: string; text: unknown }[];
  answer?: unknown;
  explanation?: unknown;
  tags?: unknown;
  difficulty?: unknown;
  source?: unknown;
}

export type Validated = { ok: true; draft: QuestionDraft } | { ok: false; problems: ImportProblem[] };

const TYPE_WORDS: Record<QuestionType, string[]> = {
  single: ['单选', '单选题', '单项选择', '单项选择题', 'single', 'singlechoice', 'radio', 'sc'],
  multiple: [
    '多选',
    '多选题',
    '多项选择',
    '多项选择题',
    '不定项',
    '不定项选择题',
    'multiple',
    'multi',
    'multiplechoice',
    'checkbox',
    'mc',
  ],
  truefalse: ['判断', '判断题', '是非', '是非题', '对错题', 'truefalse', 'tf', 'boolean', 'judge'],
  fill: ['填空', '填空题', 'fill', 'fillin', 'blank', 'fillblank', 'fillintheblank'],
};
const TYPE_LOOKUP = new Map<string, QuestionType>();
for (const [type, words] of Object.entries(TYPE_WORDS)) {
  for (const w of words) TYPE_LOOKUP.set(w, type as QuestionType);
}

export const TYPE_LABELS: Record<QuestionType, string> = {
  single: '单选',
  multiple: '多选',
  truefalse: '判断',
  fill: '填空',
};

export function parseType(value: string): QuestionType | undefined {
  return TYPE_LOOKUP.get(
    value
      .normalize('NFKC')
      .toLowerCase()
      .replace(/[\s_-]+/g, ''),
  );
}

const DIFFICULTY_WORDS: Record<string, number> = {
  '1': 1,
  易: 1,
  简单: 1,
  容易: 1,
  easy: 1,
  '2': 2,
  中: 2,
  中等: 2,
  一般: 2,
  适中: 2,
  medium: 2,
  normal: 2,
  '3': 3,
  难: 3,
  困难: 3,
  较难: 3,
  hard: 3,
};
export const DIFFICULTY_LABELS: Record<number, string> = { 1: '易', 2: '中', 3: '难' };

/** Cell text; numbers and booleans are text too, anything else is a type mistake. */
function asText(value: unknown): string | null {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return tidyText(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return null;
}

const LIST_SEPARATORS = /[,，、;；|｜\n]+/;

/** Fill-in answers: blanks are separated by ； or ; (or a line break), a blank's accepted answers by |, ｜ or ／. */
export const BLANK_SEPARATORS = /[;；\n]+/;
export const ALTERNATIVE_SEPARATORS = /[|｜／]+/;

/**
 * A fill-in answer cell as blanks of accepted answers (not yet checked).
 * Text: `全面的；系统的` is two blanks, `两|2` one blank with two answers.
 * JSON: a list of strings is one blank's accepted answers (as before
 * blanks existed); a list of lists is one list per blank.
 */
function fillAnswerCells(value: unknown, text: string): string[][] {
  const split = (t: string) =>
    t
      .split(ALTERNATIVE_SEPARATORS)
      .map((x) => x.trim())
      .filter(Boolean);
  let blanks: string[][];
  if (Array.isArray(value) && value.some((v) => Array.isArray(v))) {
    blanks = value.map((blank) =>
      (Array.isArray(blank) ? blank : [blank]).flatMap((a: unknown) => split(asText(a) ?? '')),
    );
  } else if (Array.isArray(value)) {
    blanks = [value.flatMap((a: unknown) => split(asText(a) ?? ''))];
  } else {
    blanks = text.split(BLANK_SEPARATORS).map(split);
  }
  return blanks.filter((b) => b.length > 0);
}

export function validateQuestion(raw: RawQuestion): Validated {
  const problems: ImportProblem[] = [];
  const line = raw.line;
  const problem = (key: ImportProblem['key'], params?: ImportProblem['params']) => problems.push({ line, key, params });
  const text = (value: unknown, field: string): string => {
    const t = asText(value);
    if (t === null) {
      problem('bank.row.field_type', { field });
      return '';
    }
    return t;
  };
  const limit = (value: string, field: string, max: number) => {
    if ([...value].length > max) problem('bank.row.too_long', { field, max });
  };

  // type
  const typeText = text(raw.type, '题型');
  let type: QuestionType | undefined;
  if (typeText === '') problem('bank.row.type_missing');
  else {
    type = parseType(typeText);
    if (!type) problem('bank.row.type_unknown', { value: typeText.slice(0, 20) });
  }

  // stem
  const stem = text(raw.stem, '题干');
  if (stem === '') problem('bank.row.stem_missing');
  limit(stem, '题干', LIMITS.stem);

  // options, in key order, with empty cells kept to find gaps
  const options: QuestionOption[] = [];
  let gapAt: string | undefined;
  for (const o of raw.options) {
    const t = text(o.text, `选项${o.key}`);
    if (t === '') {
      gapAt ??= o.key;
      continue;
    }
    if (gapAt !== undefined) {
      problem('bank.row.option_gap', { empty: gapAt, next: o.key });
      gapAt = undefined;
    }
    limit(t, `选项${o.key}`, LIMITS.option);
    options.push({ key: o.key, text: t });
  }
  const seenOption = new Map<string, string>();
  for (const o of options) {
    const n = normalizeForFingerprint(o.text);
    const other = seenOption.get(n);
    if (other !== undefined) problem('bank.row.option_duplicate', { a: other, b: o.key });
    else seenOption.set(n, o.key);
  }

  // answer, by type
  let answer: string[] = [];
  let finalOptions: QuestionOption[] = options;
  const answerValue = raw.answer;
  const answerText = Array.isArray(answerValue)
    ? answerValue.map((a) => asText(a) ?? '').join(',')
    : typeof answerValue === 'boolean'
      ? String(answerValue)
      : text(answerValue, '答案');
  if (type === 'single' || type === 'multiple') {
    if (options.length < 2) problem('bank.row.options_too_few', { count: options.length });
    const letters = answerText
      .normalize('NFKC')
      .toUpperCase()
      .replace(/[\s,;、|/，；]+/g, '');
    if (letters === '') problem('bank.row.answer_missing');
    else if (!/^[A-Z]+$/.test(letters)) problem('bank.row.answer_not_letters', { value: answerText.slice(0, 20) });
    else {
      const keys = [...new Set(letters)].sort();
      const known = new Set(options.map((o) => o.key));
      const missing = keys.filter((k) => !known.has(k));
      if (missing.length > 0) {
        problem('bank.row.answer_not_option', {
          keys: missing.join('、'),
          range: options.length ? options.map((o) => o.key).join('、') : '（无）',
        });
      } else if (type === 'single' && keys.length > 1) {
        problem('bank.row.single_many', { value: keys.join('') });
      } else if (type === 'multiple' && keys.length < 2) {
        problem('bank.row.multiple_one', { value: keys.join('') });
      }
      answer = keys;
    }
  } else if (type === 'truefalse') {
    // Many templates write 判断题 as choices A 正确 / B 错误 with answer A or B.
    const isStandardPair =
      options.length === 2 && parseTrueFalse(options[0]!.text) === true && parseTrueFalse(options[1]!.text) === false;
    if (options.length > 0 && !isStandardPair) problem('bank.row.options_not_allowed', { type: '判断题' });
    if (answerText === '') problem('bank.row.answer_missing');
    else {
      let tf = parseTrueFalse(answerText);
      if (tf === null && isStandardPair) {
        const key = answerText.normalize('NFKC').trim().toUpperCase();
        if (key === options[0]!.key) tf = true;
        else if (key === options[1]!.key) tf = false;
      }
      if (tf === null) problem('bank.row.truefalse_answer', { value: answerText.slice(0, 20) });
      else answer = [String(tf)];
    }
    finalOptions = [];
  } else if (type === 'fill') {
    if (options.length > 0) problem('bank.row.options_not_allowed', { type: '填空题' });
    const blanks = fillAnswerCells(answerValue, answerText);
    if (blanks.length === 0) problem('bank.row.answer_missing');
    if (blanks.length > LIMITS.blanks) problem('bank.row.too_many', { field: '空', max: LIMITS.blanks });
    let count = 0;
    for (const cells of blanks) {
      const accepted: string[] = [];
      const seen = new Set<string>();
      for (const a of cells) {
        const n = normalizeAnswer(a);
        if (n === '') {
          problem('bank.row.fill_empty_answer', { value: a.slice(0, 20) });
          continue;
        }
        if (seen.has(n)) continue;
        seen.add(n);
        limit(a, '答案', LIMITS.option);
        accepted.push(a);
      }
      count += accepted.length;
      if (accepted.length > 0) answer.push(accepted.join(ALTERNATIVES_JOIN));
    }
    if (count > LIMITS.answers) problem('bank.row.too_many', { field: '参考答案', max: LIMITS.answers });
    finalOptions = [];
  }

  // the rest
  const explanation = text(raw.explanation, '解析');
  limit(explanation, '解析', LIMITS.explanation);
  const source = text(raw.source, '来源');
  limit(source, '来源', LIMITS.source);

  const tagCells = Array.isArray(raw.tags)
    ? raw.tags.map((t) => text(t, '标签'))
    : text(raw.tags, '标签').split(LIST_SEPARATORS);
  const tags = [...new Set(tagCells.map((t) => t.normalize('NFKC').replace(/\s+/g, '')).filter(Boolean))];
  if (tags.length > LIMITS.tags) problem('bank.row.too_many', { field: '标签', max: LIMITS.tags });
  for (const t of tags) limit(t, '标签', LIMITS.tag);

  let difficulty = 2;
  const diffText = text(raw.difficulty, '难度').toLowerCase();
  if (diffText !== '') {
    const d = DIFFICULTY_WORDS[diffText.normalize('NFKC')];
    if (d === undefined) problem('bank.row.difficulty', { value: diffText.slice(0, 20) });
    else difficulty = d;
  }

  if (problems.length > 0 || !type) return { ok: false, problems };
  return {
    ok: true,
    draft: { type, stem, options: finalOptions, answer, explanation, tags, difficulty, source },
  };
}

/** Letters for `count` options: A, B, C... */
export function optionKeys(count: number): string[] {
  return OPTION_KEYS.slice(0, count);
}
