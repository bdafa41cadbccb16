import type { Harness, TranscriptMessage } from './harness.ts';

/** Posts a message with an attached file through the sandbox API, as the page's 📎 button does; returns the bot's replies. */
export async function sayWithFile(
  h: Harness,
  chatId: string,
  userId: string,
  text: string,
  file: { name: string; bytes: Buffer },
): Promise<TranscriptMessage[]> {
  const before = (await h.transcript(chatId)).reduce((m, x) => Math.max(m, x.rev), 0);
  const res = await h.shuxiang.app.request('/sandbox/api/messages', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      chatId,
      userId,
      text,
      file: { name: file.name, contentBase64: file.bytes.toString('base64') },
    }),
  });
  if (res.status !== 202) throw new Error(`say ${res.status}: ${await res.text()}`);
  return (await h.transcript(chatId, before)).filter((m) => m.from === 'bot');
}

/** A CSV file from rows (cells without commas or quotes). */
export function csvFile(name: string, rows: (string | null)[][]): { name: string; bytes: Buffer } {
  return { name, bytes: Buffer.from(rows.map((r) => r.map((c) => c ?? '').join(',')).join('\n')) };
}
