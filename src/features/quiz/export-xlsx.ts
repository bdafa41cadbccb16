import { mkdirSync } from 'node:fs';
import path from 'node:path';

/** Writes a one-sheet workbook; returns the absolute path. */
export async function writeSheet(
  dir: string,
  fileName: string,
  sheetName: string,
  columns: { header: string; width?: number }[],
  rows: (string | number)[][],
): Promise<string> {
  mkdirSync(dir, { recursive: true });
  // exceljs is large; loaded on first export so it does not weigh on every start-up.
  const { default: ExcelJS } = await import('exceljs');
  const wb = new ExcelJS.Workbook();
  wb.creator = 'Shuxiang';
  const ws = wb.addWorksheet(sheetName);
  ws.columns = columns.map((c, i) => ({ header: c.header, key: `c${i}`, width: c.width ?? 14 }));
  ws.getRow(1).font = { bold: true };
  for (const r of rows) ws.addRow(r);
  const file = path.resolve(dir, fileName);
  await wb.xlsx.writeFile(file);
  return file;
}
