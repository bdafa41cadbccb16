import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { questionsFromTable, type ParsedFile, type TableRow } from './table.ts';

/**
 * CSV as Excel and WPS write it: UTF-8 with or without a BOM, or GB18030
 * (what Chinese Excel saves as "CSV" by default), UTF-16 for "Unicode
 * text"; comma- or tab-separated. Line numbers are the text lines where
 * each record starts.
 */
export function decodeText(bytes: Buffer): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return new TextDecoder('gb18030').decode(bytes);
  }
}

/**
 * The records of a CSV file as table rows, each with the text line it starts
 * on (quoted cells may span lines), or csv-parse's syntax error as its code
 * and line. Shared by every CSV import (question bank, reading-club plan).
 */
export function readCsvRows(bytes: Buffer): { rows: TableRow[] } | { error: { code: string; line?: number } } {
  const text = decodeText(bytes).replace(/\r\n?/g, '\n');
  const firstLine = text.slice(0, text.indexOf('\n') === -1 ? undefined : text.indexOf('\n'));
  const delimiter = (firstLine.match(/\t/g)?.length ?? 0) > (firstLine.match(/,/g)?.length ?? 0) ? '\t' : ',';
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, {
      delimiter,
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
      bom: true,
    }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (err) {
    // csv-parse's errors carry a code and the line; anything else is a bug.
    const csvError = err as { code?: unknown; lines?: unknown };
    if (typeof csvError.code !== 'string') throw err;
    return {
      error: { code: csvError.code, line: typeof csvError.lines === 'number' ? csvError.lines : undefined },
    };
  }
  return {
    rows: records.map(({ record, info }) => {
      // info.lines is where the record ends.
      const inner = record.reduce((n, cell) => n + (cell.match(/\n/g)?.length ?? 0), 0);
      return { line: info.lines - inner, cells: record };
    }),
  };
}

export function parseCsv(bytes: Buffer): ParsedFile {
  const read = readCsvRows(bytes);
  if ('error' in read) {
    return {
      questions: [],
      problems: [
        {
          line: read.error.line,
          key: 'bank.file.csv_invalid',
          params: { reason: describeCsvError(read.error.code) },
        },
      ],
    };
  }
  return questionsFromTable(read.rows);
}

function describeCsvError(code: string): string {
  switch (code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return '引号没有闭合';
    case 'CSV_INVALID_CLOSING_QUOTE':
    case 'INVALID_OPENING_QUOTE':
      return '引号位置不对（单元格里的引号要写成两个 ""）';
    default:
      return '无法解析';
  }
}

export function writeCsv(header: string[], rows: string[][]): Buffer {
  // A BOM makes Excel open the UTF-8 file with the right encoding.
  return Buffer.from('\ufeff' + stringify([header, ...rows], { record_delimiter: 'windows' }), 'utf8');
}
