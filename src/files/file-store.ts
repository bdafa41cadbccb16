import { randomBytes } from 'node:crypto';
import type { Clock } from '../lib/clock.ts';
import type { Db, Tx } from '../lib/db.ts';

/**
 * Files the bot hands out as download links (test results, bank exports).
 *
 * Neither platform lets a bot attach a file to a message cheaply (docs/
 * decisions.md), so a file is kept in the database and offered as a link
 * `/files/<id>/<name>`. The link is shared in a chat, so the id is the whole
 * access check: a capability token of 144 random bits that expires after
 * `ttlMs`. The scheduler's clean-up job deletes expired rows.
 */
export const DEFAULT_FILE_TTL_MS = 7 * 86_400_000;
/** Results sheets are kilobytes; anything near this is a mistake, not a download. */
export const MAX_FILE_BYTES = 10 * 1024 * 1024;

export interface StoredFile {
  id: string;
  orgId: string;
  name: string;
  contentType: string;
  bytes: Uint8Array;
  size: number;
  createdAt: Date;
  expiresAt: Date;
}

export interface PutFile {
  orgId: string;
  name: string;
  contentType: string;
  bytes: Uint8Array;
}

export interface FileLink {
  id: string;
  /** Absolute when SHUXIANG_PUBLIC_URL is set, otherwise relative to the bot (`/files/...`). */
  url: string;
  expiresAt: Date;
}

/** Thrown by put() for files over the limit; callers turn it into a message. */
export class FileTooLargeError extends Error {
  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super(`file of ${size} bytes is larger than the ${limit}-byte limit`);
    this.name = 'FileTooLargeError';
  }
}

export interface FileStore {
  /** Stores a file and returns its link; pass `tx` to store it with the rest of a transaction. */
  put(file: PutFile, tx?: Tx | Db): Promise<FileLink>;
  /** The file, or null when unknown or expired (callers must not tell the two apart). */
  get(id: string): Promise<StoredFile | null>;
  /**
   * Whether a link works where it is shown: relative links open only in the
   * sandbox page (served by this bot); a Feishu or DingTalk client needs the
   * public URL.
   */
  linksWorkOn(platform: string): boolean;
  /** The largest file put() accepts, in bytes. */
  maxBytes: number;
  ttlMs: number;
}

export interface FileStoreDeps {
  db: Db;
  clock: Clock;
  ttlMs?: number;
  maxBytes?: number;
  /** e.g. https://bot.example.org (SHUXIANG_PUBLIC_URL); without it links are relative. */
  publicUrl?: string;
}

/** 18 random bytes: 144 bits, 24 base64url characters with no padding. */
export function newFileId(): string {
  return randomBytes(18).toString('base64url');
}

/** Ids are exactly what newFileId makes; anything else is refused before touching the database. */
export const FILE_ID_PATTERN = /^[A-Za-z0-9_-]{24}$/;

export function filePath(id: string, name: string): string {
  return `/files/${id}/${encodeURIComponent(name)}`;
}

export function createFileStore(deps: FileStoreDeps): FileStore {
  const ttlMs = deps.ttlMs ?? DEFAULT_FILE_TTL_MS;
  const maxBytes = deps.maxBytes ?? MAX_FILE_BYTES;
  const base = deps.publicUrl?.replace(/\/+$/, '');

  return {
    maxBytes,
    ttlMs,
    linksWorkOn: (platform) => base !== undefined || platform === 'sandbox',

    async put(file, tx) {
      if (file.bytes.byteLength > maxBytes) throw new FileTooLargeError(file.bytes.byteLength, maxBytes);
      const id = newFileId();
      const now = deps.clock.now();
      const expiresAt = new Date(now.getTime() + ttlMs);
      await (tx ?? deps.db).downloadFile.create({
        data: {
          id,
          orgId: file.orgId,
          name: file.name,
          contentType: file.contentType,
          // A plain copy: Prisma wants a Uint8Array over an ArrayBuffer, Node's Buffer may share a pool.
          bytes: new Uint8Array(file.bytes),
          size: file.bytes.byteLength,
          createdAt: now,
          expiresAt,
        },
      });
      const path = filePath(id, file.name);
      return { id, url: base ? `${base}${path}` : path, expiresAt };
    },

    async get(id) {
      if (!FILE_ID_PATTERN.test(id)) return null;
      const row = await deps.db.downloadFile.findUnique({ where: { id } });
      if (!row || row.expiresAt.getTime() <= deps.clock.now().getTime()) return null;
      return row;
    },
  };
}
