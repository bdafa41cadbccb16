import { createYielder } from '../../../lib/loop-yield.ts';
import { parseCsv, writeCsv } from './formats/csv.ts';
import { parseJson, writeJson } from './formats/json.ts';
import type { ParsedFile } from './formats/table.ts';
import { parseXlsx, writeXlsx } from './formats/xlsx.ts';
import { exportHeaders } from './columns.ts';
import { fingerprint } from './normalize.ts';
import { sortProblems, type ImportProblem } from './problems.ts';
import { LIMITS, type QuestionDraft } from './types.ts';
import { DIFFICULTY_LABELS, TYPE_LABELS, validateQuestion } from './validate.ts';

export const FORMATS = ['xlsx', 'csv', 'json'] as const;
export type BankFormat = (typeof FORMATS)[number];

/** Largest file accepted for import; a bank of 20,000 questions fits easily. */
export const MAX_IMPORT_BYTES = 10 * 1024 * 1024;

/** The format from the file name, or from the bytes when the name does not say. */
export function detectFormat(name: string, bytes?: Buffer): BankFormat | undefined {
  const ext = /\.([a-z0-9]+)$/i.exec(name.trim())?.[1]?.toLowerCase();
  if (ext === 'xlsx' || ext === 'csv' || ext === 'json') return ext;
  if (ext === 'tsv' || ext === 'txt') return 'csv';
  // A name with another extension (.xls, .docx, .pdf) is not a bank, whatever its bytes look like.
  if (!bytes || ext !== undefined) return undefined;
  if (bytes[0] === 0x50 && bytes[1] === 0x4b) return 'xlsx'; // "PK": a zip container
  const head = bytes
    .subarray(0, 64)
    .toString('utf8')
    .replace(/^\ufeff/, '')
    .trimStart();
  if (head.startsWith('[') || head.startsWith('{')) return 'json';
  return undefined;
}

export interface DraftWithLine {
  line: number;
  draft: QuestionDraft;
  fingerprint: string;
}

export interface ImportPlan {
  format: BankFormat;
  drafts: DraftWithLine[];
  problems: ImportProblem[];
  /** Rows repeating an earlier row, left out because duplicates are skipped (the first is kept). */
  repeats: { line: number; other: number }[];
}

/**
 * Reads and validates a whole file: every row is checked and every problem
 * collected (not just the first), and rows repeating an earlier row are
 * reported. The caller imports only when `problems` is empty.
 */
export async function readBankFile(
  name: string,
  bytes: Buffer,
  opts: { skipDuplicates?: boolean } = {},
): Promise<ImportPlan | { problems: ImportProblem[] }> {
  const format = detectFormat(name, bytes);
  if (!format) return { problems: [{ key: 'bank.file.unknown_format', params: { name: name.slice(0, 80) } }] };
  if (bytes.length > MAX_IMPORT_BYTES) {
    return { problems: [{ key: 'bank.file.too_large', params: { max: MAX_IMPORT_BYTES / 1024 / 1024 } }] };
  }
  let parsed: ParsedFile;
  if (format === 'xlsx') parsed = await parseXlsx(bytes);
  else if (format === 'csv') parsed = parseCsv(bytes);
  else parsed = parseJson(bytes);

  const problems = [...parsed.problems];
  if (parsed.questions.length > LIMITS.rows) {
    return { problems: [{ key: 'bank.file.too_many_rows', params: { max: LIMITS.rows } }] };
  }
  const drafts: DraftWithLine[] = [];
  const repeats: ImportPlan['repeats'] = [];
  const firstLine = new Map<string, number>();
  // 20,000 rows of validation is CPU work on the event loop: let webhooks in every 20 ms.
  const yielder = createYielder();
  for (const raw of parsed.questions) {
    await yielder.maybeYield();
    const v = validateQuestion(raw);
    if (!v.ok) {
      problems.push(...v.problems);
      continue;
    }
    const fp = fingerprint(v.draft);
    const other = firstLine.get(fp);
    if (other !== undefined && opts.skipDuplicates) {
      repeats.push({ line: raw.line, other });
      continue;
    }
    if (other !== undefined) {
      problems.push({ line: raw.line, key: 'bank.row.duplicate_in_file', params: { other } });
      continue;
    }
    firstLine.set(fp, raw.line);
    drafts.push({ line: raw.line, draft: v.draft, fingerprint: fp });
  }
  return { format, drafts, problems: sortProblems(problems), repeats };
}

/** Writes questions in a format that `readBankFile` reads back to the same questions. */
export async function writeBankFile(
  format: BankFormat,
  drafts: QuestionDraft[],
  meta: { exportedAt: Date; organisation?: string } = { exportedAt: new Date() },
): Promise<Buffer> {
  if (format === 'json') return writeJson(drafts, meta);
  const optionCount = Math.max(4, ...drafts.map((d) => d.options.length));
  const headers = exportHeaders(optionCount);
  const rows = drafts.map((d) =>
    headers.map(({ field }) => {
      switch (field) {
        case 'type':
          return TYPE_LABELS[d.type];
        case 'stem':
          return d.stem;
        case 'answer':
          return d.type === 'truefalse'
            ? d.answer[0] === 'true'
              ? '对'
              : '错'
            : d.type === 'fill'
              ? d.answer.join('；') // blanks by ；, a blank's accepted answers already joined by |
              : d.answer.join('');
        case 'explanation':
          return d.explanation;
        case 'tags':
          return d.tags.join('、');
        case 'difficulty':
          return DIFFICULTY_LABELS[d.difficulty] ?? String(d.difficulty);
        case 'source':
          return d.source;
        default:
          return d.options.find((o) => `option:${o.key}` === field)?.text ?? '';
      }
    }),
  );
  const names = headers.map((h) => h.header);
  if (format === 'csv') return writeCsv(names, rows);
  const widths = headers.map(({ field }) =>
    field === 'stem' || field === 'explanation' ? 48 : field.startsWith('option:') ? 22 : field === 'source' ? 30 : 10,
  );
  return writeXlsx(names, rows, widths);
}
