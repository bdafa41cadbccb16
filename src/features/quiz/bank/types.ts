import { z } from 'zod';
import { jsonColumn } from '../../../lib/json-column.ts';

/**
 * The question bank's own vocabulary. A `QuestionDraft` is a validated
 * question not yet stored; a `BankQuestion` is one read back from the
 * database with its JSON columns decoded. The live-contest, daily-practice
 * and test features read questions through `decodeQuestion`.
 */
export const QUESTION_TYPES = ['single', 'multiple', 'truefalse', 'fill'] as const;
export type QuestionType = (typeof QUESTION_TYPES)[number];

/** Option letters a question may use, in order. */
export const OPTION_KEYS = ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H'] as const;
export type OptionKey = (typeof OPTION_KEYS)[number];

export const questionOptionSchema = z.object({ key: z.string(), text: z.string() });
export type QuestionOption = z.infer<typeof questionOptionSchema>;

/** Question.options and Question.answer, as the bank writes them. */
export const questionOptionsColumn = jsonColumn(z.array(questionOptionSchema), 'Question.options');
/**
 * Question.answer: option keys or ["true"]/["false"]; for fill-in, the
 * blanks, each a list of accepted answers (`[["全面的"],["系统的"]]`). Rows
 * written before fill-ins had several blanks hold one flat list of accepted
 * answers (`["两","2"]`): one blank.
 */
export const questionAnswerColumn = jsonColumn(
  z.union([z.array(z.string()), z.array(z.array(z.string()).min(1))]),
  'Question.answer',
);

/**
 * In memory a fill-in answer is one string per blank, its accepted answers
 * joined by `|` (the separator the bank files use, so no accepted answer
 * contains it): `["全面的|全面", "系统的"]`.
 */
export const ALTERNATIVES_JOIN = '|';

/** A fill-in answer's blanks, each with its accepted answers. */
export function fillBlanks(answer: readonly string[]): string[][] {
  return answer.map((blank) => blank.split(ALTERNATIVES_JOIN));
}

/** The answer column's text for a question's answer (see questionAnswerColumn). */
export function encodeAnswer(type: string, answer: string[]): string {
  return questionAnswerColumn.stringify(type === 'fill' ? fillBlanks(answer) : answer);
}

/** The answer as the bank and play use it, from the column's text. */
export function decodeAnswer(type: string, text: string): string[] {
  const value = questionAnswerColumn.parse(text);
  if (value.length > 0 && Array.isArray(value[0])) {
    return (value as string[][]).map((alternatives) => alternatives.join(ALTERNATIVES_JOIN));
  }
  const flat = value as string[];
  // An older fill-in row: one blank, these are its accepted answers.
  return type === 'fill' && flat.length > 0 ? [flat.join(ALTERNATIVES_JOIN)] : flat;
}

export interface QuestionDraft {
  type: QuestionType;
  stem: string;
  /** Choice questions only; empty for truefalse and fill. */
  options: QuestionOption[];
  /**
   * Option keys (sorted) for choice questions, ["true"] or ["false"] for
   * truefalse; for fill, one string per blank with its accepted answers as
   * written, joined by `|` (see fillBlanks).
   */
  answer: string[];
  explanation: string;
  tags: string[];
  /** 1 easy, 2 medium, 3 hard. */
  difficulty: number;
  source: string;
}

export interface BankQuestion extends QuestionDraft {
  id: string;
  orgId: string;
  fingerprint: string;
  status: 'active' | 'retired';
  createdAt: Date;
}

export const LIMITS = {
  stem: 1000,
  option: 300,
  explanation: 2000,
  source: 200,
  tag: 30,
  tags: 10,
  answers: 20,
  /** Blanks in one fill-in question. */
  blanks: 10,
  /** Rows in one import; a bigger bank is imported in parts. */
  rows: 20_000,
} as const;

/** A database row of the Question model with its tags, as Prisma returns it. */
export interface QuestionRow {
  id: string;
  orgId: string;
  type: string;
  stem: string;
  options: string;
  answer: string;
  explanation: string;
  difficulty: number;
  source: string;
  fingerprint: string;
  status: string;
  createdAt: Date;
  tags?: { tag: string }[];
}

export function decodeQuestion(row: QuestionRow): BankQuestion {
  return {
    id: row.id,
    orgId: row.orgId,
    type: row.type as QuestionType,
    stem: row.stem,
    options: questionOptionsColumn.parse(row.options),
    answer: decodeAnswer(row.type, row.answer),
    explanation: row.explanation,
    tags: (row.tags ?? []).map((t) => t.tag).sort((a, b) => a.localeCompare(b, 'zh-CN')),
    difficulty: row.difficulty,
    source: row.source,
    fingerprint: row.fingerprint,
    status: row.status === 'retired' ? 'retired' : 'active',
    createdAt: row.createdAt,
  };
}
