import { FIELD_LABELS, fieldOf, REQUIRED_FIELDS, type Field } from '../columns.ts';
import type { ImportProblem } from '../problems.ts';
import { OPTION_KEYS } from '../types.ts';
import type { RawQuestion } from '../validate.ts';

export interface TableRow {
  /** Line (CSV) or row number (XLSX) as the person sees it. */
  line: number;
  cells: string[];
}

export interface ParsedFile {
  questions: RawQuestion[];
  /** Problems with the file as a whole (bad header, broken syntax); nothing is validated then. */
  problems: ImportProblem[];
}

/**
 * Turns a header row and data rows (from CSV or XLSX) into raw questions.
 * Rows whose cells are all empty are skipped, as spreadsheets often end
 * with formatted but empty rows.
 */
export function questionsFromTable(rows: TableRow[]): ParsedFile {
  const nonEmpty = rows.filter((r) => r.cells.some((c) => c.trim() !== ''));
  const header = nonEmpty[0];
  if (!header) return { questions: [], problems: [{ key: 'bank.file.empty' }] };

  const problems: ImportProblem[] = [];
  const columns = new Map<Field, number>();
  header.cells.forEach((cell, i) => {
    const field = fieldOf(cell);
    if (!field || field === 'ignored') return;
    if (columns.has(field)) {
      problems.push({ line: header.line, key: 'bank.file.duplicate_column', params: { column: cell.trim() } });
    } else columns.set(field, i);
  });
  const missing = REQUIRED_FIELDS.filter((f) => !columns.has(f));
  if (missing.length > 0) {
    problems.push({
      line: header.line,
      key: 'bank.file.missing_columns',
      params: { columns: missing.map((f) => FIELD_LABELS[f]).join('、') },
    });
  }
  if (problems.length > 0) return { questions: [], problems };

  // Every option letter up to the last column the file has, so a gap (A, B, _, D) is seen
  // even when the file has no column C at all.
  const lastOption = Math.max(-1, ...OPTION_KEYS.map((k, i) => (columns.has(`option:${k}`) ? i : -1)));
  const optionKeys = OPTION_KEYS.slice(0, lastOption + 1);
  const cell = (row: TableRow, field: Field) => {
    const i = columns.get(field);
    return i === undefined ? undefined : (row.cells[i] ?? '');
  };
  const questions = nonEmpty.slice(1).map((row): RawQuestion => ({
    line: row.line,
    type: cell(row, 'type'),
    stem: cell(row, 'stem'),
    options: optionKeys.map((key) => ({ key, text: cell(row, `option:${key}`) ?? '' })),
    answer: cell(row, 'answer'),
    explanation: cell(row, 'explanation'),
    tags: cell(row, 'tags'),
    difficulty: cell(row, 'difficulty'),
    source: cell(row, 'source'),
  }));
  if (questions.length === 0) return { questions: [], problems: [{ key: 'bank.file.empty' }] };
  return { questions, problems: [] };
}
