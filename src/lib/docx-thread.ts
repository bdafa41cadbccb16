import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Building DOCX documents (the docx library) on a worker thread.
 *
 * docx builds the whole XML tree and serialises it synchronously: a reading
 * club's yearbook (12 meetings, 300 members, 2,000 notes) held the event loop
 * for seconds (docs/decisions/event-loop.md). As with XLSX
 * (xlsx-thread.ts), the main thread posts plain data, here a list of blocks,
 * and a short-lived worker started from source text, with docx resolved by the
 * main thread, answers with the file's bytes.
 */
export type DocBlock =
  | {
      kind: 'paragraph';
      text: string;
      heading?: 'title' | 'h1' | 'h2';
      center?: boolean;
      /** Space before, in twentieths of a point. */
      spaceBefore?: number;
      pageBreakBefore?: boolean;
      /** First-line indent, in twentieths of a point. */
      firstLine?: number;
    }
  | { kind: 'pageBreak' }
  | { kind: 'toc'; title: string }
  /** A full-width table; the header row bold. */
  | { kind: 'table'; header: string[]; rows: string[][] };

export interface DocSpec {
  creator: string;
  title: string;
  /** Default font and size (half-points) of the document's text. */
  font: string;
  size: number;
  /** Ask Word and WPS to fill fields (the table of contents) when the file is opened. */
  updateFields?: boolean;
  blocks: DocBlock[];
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const d = require(workerData.docx);

const HEADINGS = { title: d.HeadingLevel.TITLE, h1: d.HeadingLevel.HEADING_1, h2: d.HeadingLevel.HEADING_2 };

function table(header, rows) {
  const row = (cells, bold) => new d.TableRow({
    children: cells.map((c) => new d.TableCell({ children: [new d.Paragraph({ children: [new d.TextRun({ text: c, bold })] })] })),
  });
  return new d.Table({ width: { size: 100, type: d.WidthType.PERCENTAGE }, rows: [row(header, true), ...rows.map((r) => row(r, false))] });
}

function block(b) {
  if (b.kind === 'pageBreak') return new d.Paragraph({ children: [new d.PageBreak()] });
  if (b.kind === 'toc') return new d.TableOfContents(b.title, { hyperlink: true, headingStyleRange: '1-1' });
  if (b.kind === 'table') return table(b.header, b.rows);
  const opts = {};
  if (b.heading) opts.heading = HEADINGS[b.heading];
  if (b.center) opts.alignment = d.AlignmentType.CENTER;
  if (b.spaceBefore) opts.spacing = { before: b.spaceBefore };
  if (b.pageBreakBefore) opts.pageBreakBefore = true;
  if (b.firstLine) return new d.Paragraph({ ...opts, children: [new d.TextRun(b.text)], indent: { firstLine: b.firstLine } });
  return new d.Paragraph({ ...opts, text: b.text });
}

async function build(spec) {
  const doc = new d.Document({
    creator: spec.creator,
    title: spec.title,
    ...(spec.updateFields ? { features: { updateFields: true } } : {}),
    styles: { default: { document: { run: { font: spec.font, size: spec.size } } } },
    sections: [{ children: spec.blocks.map(block) }],
  });
  return d.Packer.toBuffer(doc);
}

build(workerData.spec).then(
  (bytes) => parentPort.postMessage({ bytes }),
  (err) => parentPort.postMessage({ error: String((err && err.stack) || err) }),
);
`;

let docxPath: string | undefined;

/** The document's bytes, built off the main thread. */
export function docxInWorker(spec: DocSpec): Promise<Buffer> {
  docxPath ??= createRequire(import.meta.url).resolve('docx');
  return new Promise<Buffer>((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { docx: docxPath, spec } });
    let settled = false;
    worker.once('message', (m: { bytes?: Uint8Array; error?: string }) => {
      settled = true;
      void worker.terminate();
      if (m.error !== undefined || !m.bytes) reject(new Error(`docx worker: ${m.error ?? 'no bytes'}`));
      else resolve(Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength));
    });
    worker.once('error', (err) => {
      settled = true;
      reject(err);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`docx worker exited with code ${code}`));
    });
  });
}
