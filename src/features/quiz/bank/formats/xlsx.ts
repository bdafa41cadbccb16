import type ExcelJS from 'exceljs';
import { questionsFromTable, type ParsedFile, type TableRow } from './table.ts';

/**
 * XLSX through exceljs. Reads the sheet named 题库 when there is one, else
 * the first sheet; row numbers are Excel's. Cells are read as the text
 * Excel shows (numbers, dates, formula results, rich text).
 */
/** exceljs is large; loaded on first use so it does not slow every start-up. */
async function loadExcel(): Promise<typeof ExcelJS> {
  return (await import('exceljs')).default;
}

export async function parseXlsx(bytes: Buffer): Promise<ParsedFile> {
  const workbook = new (await loadExcel()).Workbook();
  try {
    await workbook.xlsx.load(bytes as unknown as ArrayBuffer);
  } catch {
    return { questions: [], problems: [{ key: 'bank.file.xlsx_invalid' }] };
  }
  const sheet = workbook.getWorksheet('题库') ?? workbook.worksheets[0];
  if (!sheet) return { questions: [], problems: [{ key: 'bank.file.empty' }] };
  const rows: TableRow[] = [];
  sheet.eachRow({ includeEmpty: false }, (row, rowNumber) => {
    const cells: string[] = [];
    row.eachCell({ includeEmpty: true }, (cell, col) => {
      cells[col - 1] = cellText(cell);
    });
    rows.push({ line: rowNumber, cells: Array.from(cells, (c) => c ?? '') });
  });
  return questionsFromTable(rows);
}

function cellText(cell: ExcelJS.Cell): string {
  const v = cell.value;
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v instanceof Date) return v.toISOString().slice(0, 10);
  if (typeof v === 'object') {
    if ('richText' in v) return v.richText.map((r) => r.text).join('');
    if ('result' in v) return v.result === undefined || v.result === null ? '' : String(v.result);
    if ('text' in v) return String(v.text);
    if ('error' in v) return '';
  }
  return cell.text ?? '';
}

export async function writeXlsx(header: string[], rows: string[][], widths: number[]): Promise<Buffer> {
  const workbook = new (await loadExcel()).Workbook();
  workbook.creator = 'Shuxiang';
  const sheet = workbook.addWorksheet('题库', { views: [{ state: 'frozen', ySplit: 1 }] });
  sheet.columns = header.map((h, i) => ({ header: h, width: widths[i] ?? 12 }));
  sheet.getRow(1).font = { bold: true };
  for (const r of rows) {
    const row = sheet.addRow(r);
    row.alignment = { wrapText: true, vertical: 'top' };
  }
  // Keep every cell as text so Excel does not turn answers like "1" or dates into numbers.
  sheet.eachRow((row) => {
    row.eachCell((cell) => {
      cell.numFmt = '@';
    });
  });
  const out = await workbook.xlsx.writeBuffer();
  return Buffer.from(out as ArrayBuffer);
}
