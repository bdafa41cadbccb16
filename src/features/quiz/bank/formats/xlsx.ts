import { readCellsInWorker, writeSheetInWorker } from '../../../../lib/xlsx-thread.ts';
import { questionsFromTable, type ParsedFile, type TableRow } from './table.ts';

/**
 * XLSX through exceljs. Reads the sheet named 题库 when there is one, else
 * the first sheet; row numbers are Excel's. Cells are read as the text
 * Excel shows (numbers, dates, formula results, rich text).
 */
export async function parseXlsx(bytes: Buffer): Promise<ParsedFile> {
  // Off the main thread: reading 20,000 rows held the event loop for seconds (docs/decisions/event-loop.md).
  const read = await readCellsInWorker(bytes, '题库');
  if (!read.ok) {
    return {
      questions: [],
      problems: [{ key: read.reason === 'invalid' ? 'bank.file.xlsx_invalid' : 'bank.file.empty' }],
    };
  }
  return questionsFromTable(read.rows as TableRow[]);
}

export async function writeXlsx(header: string[], rows: string[][], widths: number[]): Promise<Buffer> {
  return writeSheetInWorker({
    sheetName: '题库',
    columns: header.map((h, i) => ({ header: h, width: widths[i] ?? 12 })),
    rows,
    textSheet: true,
  });
}
