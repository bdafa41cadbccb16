import { FileTooLargeError, type FileStore, type PutFile } from '../files/file-store.ts';
import type { Db, Tx } from '../lib/db.ts';
import type { CardElement } from '../platforms/types.ts';
import type { MessageKey, MessageParams } from './messages.ts';

export interface OfferedDownload {
  /** The link button, when a link can be opened where the card goes. */
  link: CardElement | null;
  /** What to tell the reader: how long the link lives, or why there is none. */
  note: string;
}

const MB = 1024 * 1024;

/**
 * Hands a file to a chat as a download link (docs/decisions.md: capability
 * links instead of platform file uploads). On Feishu and DingTalk a relative
 * link is dead, so without SHUXIANG_PUBLIC_URL nothing is stored and the
 * note says why instead. A file over the store's limit gets a note too,
 * not an exception: at a test's close the offer runs inside the scheduler's
 * transaction, and the results card must still go out.
 */
export async function offerDownload(
  files: FileStore,
  t: (key: MessageKey, params?: MessageParams) => string,
  input: PutFile & { platform: string; buttonText: string },
  tx?: Tx | Db,
): Promise<OfferedDownload> {
  if (!files.linksWorkOn(input.platform)) return { link: null, note: t('files.no_public_url') };
  try {
    const { url } = await files.put(
      { orgId: input.orgId, name: input.name, contentType: input.contentType, bytes: input.bytes },
      tx,
    );
    return {
      link: { type: 'link', text: input.buttonText, url, style: 'primary' },
      note: t('files.link_note', { days: Math.round(files.ttlMs / 86_400_000) }),
    };
  } catch (err) {
    if (!(err instanceof FileTooLargeError)) throw err;
    return {
      link: null,
      note: t('files.too_large', { size: (err.size / MB).toFixed(1), limit: Math.round(err.limit / MB) }),
    };
  }
}

/** A name part safe in a file name on every system (Windows refuses these characters). */
export function safeFileName(name: string): string {
  return name.replace(/[\\/:*?"<>|\s]+/g, '_');
}

export const XLSX_CONTENT_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
