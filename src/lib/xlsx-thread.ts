import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Building and reading XLSX workbooks (exceljs) on a worker thread.
 *
 * exceljs is pure JavaScript and synchronous where it counts: a 5,000-row
 * results sheet held the event loop for about a second, reading a
 * 20,000-question bank for several. Chunking cannot split a zip, so the
 * work goes to a short-lived worker: the main thread only posts plain rows
 * (or the file's bytes) and gets bytes (or plain cells) back.
 *
 * The worker is started from source text with exceljs resolved here, so it
 * needs no build step of its own: the same code runs under tsx and from the
 * esbuild bundle (which keeps packages external).
 */

export interface SheetSpec {
  sheetName: string;
  columns: { header: string; width?: number }[];
  rows: (string | number)[][];
  /** Freeze the header row, wrap text at the top of cells, and keep every cell as text (bank exports). */
  textSheet?: boolean;
}

export type ReadCells =
  { ok: true; rows: { line: number; cells: string[] }[] } | { ok: false; reason: 'invalid' | 'empty' };

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const ExcelJS = require(workerData.exceljs);

function cellText(cell) {
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

async function write({ sheetName, columns, rows, textSheet }) {
  const wb = new ExcelJS.Workbook();
  wb.creator = 'Shuxiang';
  const ws = wb.addWorksheet(sheetName, textSheet ? { views: [{ state: 'frozen', ySplit: 1 }] } : undefined);
  ws.columns = columns.map((c, i) => ({ header: c.header, key: 'c' + i, width: c.width ?? (textSheet ? 12 : 14) }));
  ws.getRow(1).font = { bold: true };
  for (const r of rows) {
    const row = ws.addRow(r);
    if (textSheet) row.alignment = { wrapText: true, vertical: 'top' };
  }
  // Keep every cell as text so Excel does not turn answers like "1" or dates into numbers.
  if (textSheet) ws.eachRow((row) => row.eachCell((cell) => { cell.numFmt = '@'; }));
  return Buffer.from(await wb.xlsx.writeBuffer());
}

async function read({ bytes, preferSheet }) {
  const wb = new ExcelJS.Workbook();
  try {
    await wb.xlsx.load(Buffer.from(bytes));
  } catch {
    return { ok: false, reason: 'invalid' };
  }
  const sheet = wb.getWorksheet(preferSheet) ?? wb.worksheets[0];
  if (!sheet) return { ok: false, reason: 'empty' };
  const rows = [];
  sheet.eachRow({ includeEmpty: false }, (row, rowNumber) => {
    const cells = [];
    row.eachCell({ includeEmpty: true }, (cell, col) => { cells[col - 1] = cellText(cell); });
    rows.push({ line: rowNumber, cells: Array.from(cells, (c) => c ?? '') });
  });
  return { ok: true, rows };
}

const job = workerData.job;
(job.kind === 'write' ? write(job) : read(job)).then(
  (result) => parentPort.postMessage({ result }),
  (err) => parentPort.postMessage({ error: String(err && err.stack || err) }),
);
`;

let exceljsPath: string | undefined;

function run<T>(job: Record<string, unknown>): Promise<T> {
  exceljsPath ??= createRequire(import.meta.url).resolve('exceljs');
  return new Promise<T>((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { exceljs: exceljsPath, job } });
    let settled = false;
    worker.once('message', (m: { result?: T; error?: string }) => {
      settled = true;
      void worker.terminate();
      if (m.error !== undefined) reject(new Error(`xlsx worker: ${m.error}`));
      else resolve(m.result as T);
    });
    worker.once('error', (err) => {
      settled = true;
      reject(err);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`xlsx worker exited with code ${code}`));
    });
  });
}

/** A one-sheet workbook, built off the main thread. */
export async function writeSheetInWorker(spec: SheetSpec): Promise<Buffer> {
  const bytes = await run<Uint8Array>({ kind: 'write', ...spec });
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The cells of a workbook's sheet (`preferSheet` when it has one, else the first) as Excel shows them. */
export function readCellsInWorker(bytes: Buffer, preferSheet: string): Promise<ReadCells> {
  return run<ReadCells>({ kind: 'read', bytes, preferSheet });
}

/**
 * A one-sheet workbook in memory, for any feature's export; the caller hands
 * it out as a download link (the server keeps no export directory). Built on
 * the worker thread: a 5,000-row sheet held the event loop for about a second.
 */
export async function sheetBytes(
  sheetName: string,
  columns: { header: string; width?: number }[],
  rows: (string | number)[][],
): Promise<Buffer> {
  return writeSheetInWorker({ sheetName, columns, rows });
}
