import type { Db, Tx } from '../../lib/db.ts';
import type { CheckableQuestion, QuestionType } from './answer-check.ts';
import { decodeAnswer, questionOptionsColumn } from './bank/types.ts';

/** A bank question as the play side uses it (options and answer parsed from their JSON columns). */
export interface QuizQuestion extends CheckableQuestion {
  id: string;
  type: QuestionType;
  stem: string;
  options: { key: string; text: string }[];
  answer: string[];
  explanation: string;
}

interface QuestionRow {
  id: string;
  type: string;
  stem: string;
  options: string;
  answer: string;
  explanation: string;
}

export function toQuizQuestion(row: QuestionRow): QuizQuestion {
  const options = questionOptionsColumn.parse(row.options).map((o) => ({ key: o.key.toUpperCase(), text: o.text }));
  const type = (['single', 'multiple', 'truefalse', 'fill'].includes(row.type) ? row.type : 'single') as QuestionType;
  return {
    id: row.id,
    type,
    stem: row.stem,
    options,
    optionKeys: options.map((o) => o.key),
    answer: decodeAnswer(type, row.answer),
    explanation: row.explanation,
  };
}

export async function loadQuestions(db: Db | Tx, ids: string[]): Promise<Map<string, QuizQuestion>> {
  const rows = await db.question.findMany({ where: { id: { in: ids } } });
  return new Map(rows.map((r) => [r.id, toQuizQuestion(r)]));
}

/** Ids of the active questions of an organisation, optionally with a tag. */
export async function candidateIds(db: Db | Tx, orgId: string, tag?: string | null): Promise<string[]> {
  const rows = await db.question.findMany({
    where: { orgId, status: 'active', ...(tag ? { tags: { some: { tag } } } : {}) },
    select: { id: true },
  });
  return rows.map((r) => r.id);
}

export function shuffle<T>(items: T[], random: () => number = Math.random): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/**
 * Picks `count` questions, never-used first, then the least recently used
 * (`lastUsed` maps question id → when it was last asked), so nothing
 * repeats until the candidates are exhausted.
 */
export function pickFresh(ids: string[], count: number, lastUsed: Map<string, number>): string[] {
  const fresh = shuffle(ids.filter((id) => !lastUsed.has(id)));
  if (fresh.length >= count) return fresh.slice(0, count);
  const used = shuffle(ids.filter((id) => lastUsed.has(id))).sort((a, b) => lastUsed.get(a)! - lastUsed.get(b)!);
  return [...fresh, ...used].slice(0, count);
}
