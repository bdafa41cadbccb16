import { DateTime } from 'luxon';
import type ExcelJS from 'exceljs';
import { UserError } from '../../bot/errors.ts';
import type { MessageKey, MessageParams } from '../../bot/messages.ts';
import { readCsvRows, writeCsv } from '../quiz/bank/formats/csv.ts';
import type { TableRow } from '../quiz/bank/formats/table.ts';
import type { ImportProblem } from '../quiz/bank/problems.ts';
import { DEFAULT_TIME, parseSchedule, TimeParseError } from '../calendar/parse-time.ts';
import { FORMAT_KEYS, formatOf, PART_KEYS, partsOf, type ClubFormat, type ClubPart } from './model.ts';
import type { SessionDraft, SessionRow } from './sessions.ts';

/**
 * What a secretary types or uploads to make the plan: the one-liner
 * (`读书会 安排 2027-01-15 14:30 主题 承办 办公室 地点 … 形式 …`) and the
 * XLSX/CSV plan, both checked to the same rules. Files follow the question
 * bank's import rules: every bad row with its line, nothing written unless
 * every row is good.
 */

type T = (key: MessageKey, params?: MessageParams) => string;

export interface UnitLookup {
  byName(name: string): { id: string; name: string } | undefined;
}

/** Keywords of the one-liner, Chinese and English, to the field they introduce. */
const KEYWORDS: Record<string, 'unit' | 'place' | 'format' | 'parts' | 'tag'> = {
  承办: 'unit',
  协办: 'unit',
  承办单位: 'unit',
  unit: 'unit',
  地点: 'place',
  place: 'place',
  形式: 'format',
  format: 'format',
  环节: 'parts',
  板块: 'parts',
  parts: 'parts',
  标签: 'tag',
  tag: 'tag',
};

const ISO_DATE = /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})/;

/** A typed date that does not exist (2027-02-30) gets its own message, before the general parser. */
function checkDateExists(text: string, line?: number): void {
  const m = ISO_DATE.exec(text.normalize('NFKC'));
  if (!m) return;
  const d = DateTime.fromObject({ year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) });
  if (!d.isValid) throw new UserError('club.bad_date', { line: lineText(line), date: m[0] });
}

function lineText(line?: number): string {
  return line === undefined ? '' : `第 ${line} 行：`;
}

/** `读书会 安排 …`: one session from one line. */
export function parseOneLiner(spec: string, now: Date, tz: string, units: UnitLookup): SessionDraft {
  checkDateExists(spec);
  let parsed;
  try {
    parsed = parseSchedule(spec, now, tz);
  } catch (err) {
    if (err instanceof TimeParseError) {
      if (err.key === 'calendar.parse.no_text') throw new UserError('club.add.no_theme');
      if (err.key === 'calendar.parse.past')
        throw new UserError('club.add.past', { when: String(err.params.when ?? '') });
      throw new UserError('club.add.bad_time', { input: spec.slice(0, 40) });
    }
    throw err;
  }
  if (parsed.kind !== 'once') throw new UserError('club.add.bad_time', { input: spec.slice(0, 40) });
  const words = parsed.text.split(/\s+/).filter(Boolean);
  const themeWords: string[] = [];
  const fields: Partial<Record<'unit' | 'place' | 'format' | 'parts' | 'tag', string[]>> = {};
  let current: keyof typeof fields | null = null;
  for (const w of words) {
    const k = KEYWORDS[w.toLowerCase()];
    if (k) {
      current = k;
      fields[k] = [];
    } else if (current) fields[current]!.push(w);
    else themeWords.push(w);
  }
  const theme = themeWords.join(' ');
  if (!theme) throw new UserError('club.add.no_theme');
  return draftFromFields({
    startsAt: parsed.at,
    theme,
    unit: fields.unit?.join(' '),
    place: fields.place?.join(' '),
    format: fields.format?.join(''),
    parts: fields.parts?.join(' '),
    tag: fields.tag?.join(' '),
    units,
  });
}

/** Checks the optional fields every entry path shares; a problem is thrown as a UserError. */
export function draftFromFields(input: {
  line?: number;
  seq?: number;
  startsAt: Date;
  theme: string;
  unit?: string;
  place?: string;
  format?: string;
  parts?: string;
  tag?: string;
  units: UnitLookup;
}): SessionDraft {
  const line = lineText(input.line);
  let unitId: string | null = null;
  if (input.unit?.trim()) {
    const unit = input.units.byName(input.unit.trim());
    if (!unit) throw new UserError('club.no_unit', { line, unit: input.unit.trim() });
    unitId = unit.id;
  }
  let format: ClubFormat = 'meeting';
  if (input.format?.trim()) {
    const f = formatOf(input.format);
    if (!f) throw new UserError('club.bad_format', { line, format: input.format.trim() });
    format = f;
  }
  let parts: ClubPart[] = [];
  if (input.parts?.trim()) {
    const p = partsOf(input.parts);
    if (p.unknown.length) throw new UserError('club.bad_parts', { line, parts: p.unknown.join('、') });
    parts = p.parts;
  }
  if (input.theme.length > 200) throw new UserError('club.theme_too_long', { line });
  return {
    line: input.line,
    seq: input.seq,
    startsAt: input.startsAt,
    theme: input.theme.trim(),
    place: input.place?.trim() ?? '',
    format,
    parts,
    tag: input.tag?.trim() ?? '',
    unitId,
  };
}

// ---- Files ------------------------------------------------------------------------

export const PLAN_COLUMNS = ['期数', '日期', '时间', '主题', '形式', '承办单位', '地点', '环节', '标签'] as const;
type Column = (typeof PLAN_COLUMNS)[number];
const COLUMN_ALIASES: Record<string, Column> = {
  期数: '期数',
  期: '期数',
  seq: '期数',
  日期: '日期',
  date: '日期',
  时间: '时间',
  time: '时间',
  主题: '主题',
  theme: '主题',
  形式: '形式',
  format: '形式',
  承办单位: '承办单位',
  承办: '承办单位',
  协办单位: '承办单位',
  unit: '承办单位',
  地点: '地点',
  place: '地点',
  环节: '环节',
  板块: '环节',
  parts: '环节',
  标签: '标签',
  tag: '标签',
};

async function loadExcel(): Promise<typeof ExcelJS> {
  return (await import('exceljs')).default;
}

/** The rows of a CSV (the question bank's decoding: UTF-8, GB18030, UTF-16) or XLSX file. */
export async function readTable(name: string, bytes: Buffer): Promise<TableRow[] | ImportProblem> {
  if (/\.xlsx$/i.test(name) || (bytes[0] === 0x50 && bytes[1] === 0x4b)) {
    const workbook = new (await loadExcel()).Workbook();
    try {
      await workbook.xlsx.load(bytes as unknown as ArrayBuffer);
    } catch {
      return { key: 'bank.file.xlsx_invalid' };
    }
    const sheet = workbook.getWorksheet('读书会计划') ?? workbook.worksheets[0];
    const rows: TableRow[] = [];
    sheet?.eachRow({ includeEmpty: false }, (row, rowNumber) => {
      const cells: string[] = [];
      row.eachCell({ includeEmpty: true }, (cell, col) => {
        const v = cell.value;
        cells[col - 1] =
          v instanceof Date
            ? v.toISOString().slice(0, 10)
            : typeof v === 'object' && v !== null && 'richText' in v
              ? v.richText.map((r) => r.text).join('')
              : (cell.text ?? '');
      });
      rows.push({ line: rowNumber, cells: Array.from(cells, (c) => c ?? '') });
    });
    return rows;
  }
  if (!/\.(csv|tsv|txt)$/i.test(name)) return { key: 'club.import.unknown_format', params: { name } };
  const read = readCsvRows(bytes);
  if ('error' in read) return { key: 'club.import.csv_invalid', line: read.error.line };
  return read.rows;
}

/**
 * Drafts from a plan table for `year`: every bad row is reported with its
 * line, and a file with any problem gives no drafts.
 */
export function draftsFromTable(
  rows: TableRow[],
  ctx: { year: number; tz: string; units: UnitLookup; lastSeq: number },
): { drafts: SessionDraft[]; problems: ImportProblem[] } {
  const nonEmpty = rows.filter((r) => r.cells.some((c) => c.trim() !== ''));
  const header = nonEmpty[0];
  if (!header) return { drafts: [], problems: [{ key: 'club.import.empty' }] };
  const cols = new Map<Column, number>();
  header.cells.forEach((c, i) => {
    const col = COLUMN_ALIASES[c.trim().toLowerCase()];
    if (col && !cols.has(col)) cols.set(col, i);
  });
  const missing = (['日期', '主题'] as Column[]).filter((c) => !cols.has(c));
  if (missing.length)
    return {
      drafts: [],
      problems: [{ line: header.line, key: 'club.import.missing_columns', params: { columns: missing.join('、') } }],
    };
  const cell = (r: TableRow, c: Column) => {
    const i = cols.get(c);
    return i === undefined ? '' : (r.cells[i] ?? '').trim();
  };
  const problems: ImportProblem[] = [];
  const drafts: SessionDraft[] = [];
  const months = new Map<number, number>();
  let lastSeq = ctx.lastSeq;
  for (const r of nonEmpty.slice(1)) {
    const problem = (key: MessageKey, params: MessageParams = {}) => problems.push({ line: r.line, key, params });
    const dateText = cell(r, '日期').normalize('NFKC');
    const m = ISO_DATE.exec(dateText) ?? /^(\d{4})年(\d{1,2})月(\d{1,2})日/.exec(dateText);
    if (!m) {
      problem('club.import.bad_date', { date: dateText || '（空）' });
      continue;
    }
    const timeText = (cell(r, '时间') || DEFAULT_TIME).normalize('NFKC');
    const tm = /^(\d{1,2})[:：](\d{2})$/.exec(timeText);
    const local = DateTime.fromObject(
      {
        year: Number(m[1]),
        month: Number(m[2]),
        day: Number(m[3]),
        hour: Number(tm?.[1] ?? 0),
        minute: Number(tm?.[2] ?? 0),
      },
      { zone: ctx.tz },
    );
    if (!DateTime.fromObject({ year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) }).isValid) {
      problem('club.import.no_such_day', { date: m[0] });
      continue;
    }
    if (!tm || !local.isValid) {
      problem('club.import.bad_time', { time: timeText });
      continue;
    }
    if (local.year !== ctx.year) {
      problem('club.import.wrong_year', { date: m[0], year: ctx.year });
      continue;
    }
    const other = months.get(local.month);
    if (other !== undefined) {
      problem('club.import.two_in_month', { month: local.month, other });
      continue;
    }
    months.set(local.month, r.line);
    let seq: number | undefined;
    const seqText = cell(r, '期数').replace(/^第|期$/g, '');
    if (seqText) {
      seq = Number(seqText);
      if (!Number.isInteger(seq) || seq < 1) {
        problem('club.import.bad_seq', { seq: seqText });
        continue;
      }
      if (seq <= lastSeq) {
        problem('club.import.seq_backwards', { seq, last: lastSeq });
        continue;
      }
      lastSeq = seq;
    }
    const theme = cell(r, '主题');
    if (!theme) {
      problem('club.import.no_theme');
      continue;
    }
    try {
      drafts.push(
        draftFromFields({
          line: r.line,
          seq,
          startsAt: local.toJSDate(),
          theme,
          unit: cell(r, '承办单位'),
          place: cell(r, '地点'),
          format: cell(r, '形式'),
          parts: cell(r, '环节'),
          tag: cell(r, '标签'),
          units: ctx.units,
        }),
      );
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      // The row is already in the message's own words; drop the prefix the line number repeats.
      problems.push({ line: r.line, key: err.key, params: { ...err.params, line: '' } });
    }
  }
  if (problems.length === 0 && drafts.length === 0) problems.push({ key: 'club.import.empty' });
  return problems.length ? { drafts: [], problems } : { drafts, problems };
}

/** The plan as table rows (export), or the template's example rows. */
export function planRows(
  sessions: SessionRow[],
  tz: string,
  t: T,
  unitName: (id: string | null) => string,
  parts: (s: SessionRow) => ClubPart[],
): string[][] {
  return sessions.map((s) => {
    const d = DateTime.fromJSDate(s.startsAt, { zone: tz });
    return [
      String(s.seq),
      d.toFormat('yyyy-MM-dd'),
      d.toFormat('HH:mm'),
      s.theme,
      t(FORMAT_KEYS[s.format as ClubFormat] ?? 'club.format.meeting'),
      unitName(s.unitId),
      s.place,
      parts(s)
        .map((p) => t(PART_KEYS[p]))
        .join('、'),
      s.tag,
    ];
  });
}

export async function writePlanFile(format: 'xlsx' | 'csv', rows: string[][]): Promise<Buffer> {
  const header = [...PLAN_COLUMNS];
  if (format === 'csv') return writeCsv(header, rows);
  const workbook = new (await loadExcel()).Workbook();
  workbook.creator = 'Shuxiang';
  const sheet = workbook.addWorksheet('读书会计划', { views: [{ state: 'frozen', ySplit: 1 }] });
  sheet.columns = header.map((h, i) => ({ header: h, width: [8, 12, 8, 36, 12, 14, 18, 24, 12][i] ?? 12 }));
  sheet.getRow(1).font = { bold: true };
  for (const r of rows) sheet.addRow(r).alignment = { wrapText: true, vertical: 'top' };
  // Text cells, so Excel keeps 2027-01-15 and 14:30 as typed.
  sheet.eachRow((row) => row.eachCell((c) => void (c.numFmt = '@')));
  return Buffer.from((await workbook.xlsx.writeBuffer()) as ArrayBuffer);
}
