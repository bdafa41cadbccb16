import { FileTooLargeError, type FileStore, type PutFile } from '../files/file-store.ts';
import type { Db, Tx } from '../lib/db.ts';
import type { MessageRef, Outbox } from '../outbox/outbox.ts';
import type { CardElement, Platform, Target } from '../platforms/types.ts';
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

export interface OfferFileInput extends PutFile {
  platform: Platform;
  target: Target;
  /**
   * Said with the file only when it goes as a link (a file message has no
   * caption on either platform); callers wanting a caption everywhere send
   * their own text first.
   */
  text?: string;
  replyHandle?: string;
  /** Outbox id chosen by the caller, so a retried decision maps to the same row. */
  id?: string;
  notBefore?: Date;
  meta?: Record<string, unknown>;
}

export interface OfferedFile extends MessageRef {
  /** The stored file, or null when it was too large to store (a text saying so was queued instead). */
  fileId: string | null;
}

/**
 * Sends a file to a chat or a person: stores it (bytes in chunks) and queues
 * one `file` outbox row holding its id, both in the caller's transaction when
 * `tx` is given. The worker sends a file message where the platform takes the
 * file, and otherwise this row's text: the download link where a link opens
 * (offerDownload's rule: the sandbox, or any platform with
 * SHUXIANG_PUBLIC_URL), or why there is none. A file over the store's limit
 * is not stored and a text says so.
 */
export async function offerFile(
  deps: { files: FileStore; outbox: Outbox; t: (key: MessageKey, params?: MessageParams) => string },
  input: OfferFileInput,
  tx?: Tx,
): Promise<OfferedFile> {
  const { files, outbox, t } = deps;
  const row = {
    platform: input.platform,
    orgId: input.orgId,
    target: input.target,
    id: input.id,
    notBefore: input.notBefore,
    meta: input.meta,
  };
  const lead = input.text ? `${input.text}\n` : '';
  let link;
  try {
    link = await files.put(
      { orgId: input.orgId, name: input.name, contentType: input.contentType, bytes: input.bytes },
      tx,
    );
  } catch (err) {
    if (!(err instanceof FileTooLargeError)) throw err;
    const text = t('files.too_large_to_send', {
      name: input.name,
      size: (err.size / MB).toFixed(1),
      limit: Math.round(err.limit / MB),
    });
    const ref = await outbox.enqueue(
      { ...row, kind: 'text', body: { text: `${lead}${text}`, replyHandle: input.replyHandle } },
      tx,
    );
    return { ...ref, fileId: null };
  }
  const text = files.linksWorkOn(input.platform)
    ? t('files.fallback_link', { name: input.name, url: link.url, days: Math.round(files.ttlMs / 86_400_000) })
    : t('files.fallback_no_link', { name: input.name });
  const ref = await outbox.enqueue(
    {
      ...row,
      kind: 'file',
      body: { file: { id: link.id, name: input.name }, text: `${lead}${text}`, replyHandle: input.replyHandle },
    },
    tx,
  );
  return { ...ref, fileId: link.id };
}

/** A name part safe in a file name on every system (Windows refuses these characters). */
export function safeFileName(name: string): string {
  return name.replace(/[\\/:*?"<>|\s]+/g, '_');
}

export const XLSX_CONTENT_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
export const DOCX_CONTENT_TYPE = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
export const MARKDOWN_CONTENT_TYPE = 'text/markdown; charset=utf-8';
