import { writeSheetInWorker } from '../../lib/xlsx-thread.ts';

/**
 * A one-sheet workbook in memory; the caller hands it out as a download link
 * (the server keeps no export directory). Built on a worker thread: a
 * 5,000-row sheet held the event loop for about a second.
 */
export async function sheetBytes(
  sheetName: string,
  columns: { header: string; width?: number }[],
  rows: (string | number)[][],
): Promise<Buffer> {
  return writeSheetInWorker({ sheetName, columns, rows });
}
