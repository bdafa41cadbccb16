/**
 * A one-sheet workbook in memory; the caller hands it out as a download link
 * (the server keeps no export directory).
 */
export async function sheetBytes(
  sheetName: string,
  columns: { header: string; width?: number }[],
  rows: (string | number)[][],
): Promise<Buffer> {
  // exceljs is large; loaded on first export so it does not weigh on every start-up.
  const { default: ExcelJS } = await import('exceljs');
  const wb = new ExcelJS.Workbook();
  wb.creator = 'Shuxiang';
  const ws = wb.addWorksheet(sheetName);
  ws.columns = columns.map((c, i) => ({ header: c.header, key: `c${i}`, width: c.width ?? 14 }));
  ws.getRow(1).font = { bold: true };
  for (const r of rows) ws.addRow(r);
  return Buffer.from(await wb.xlsx.writeBuffer());
}
