import { randomBytes } from 'node:crypto';
import type { Clock } from '../lib/clock.ts';
import type { Db, Tx } from '../lib/db.ts';

/**
 * Files the bot hands out (test results, bank exports, yearbooks).
 *
 * A file is kept in the database (metadata in DownloadFile, bytes in
 * FileChunk rows) and offered as a link `/files/<id>/<name>`, or sent as a
 * file message by the outbox where a platform takes it (docs/decisions.md).
 * The link is shared in a chat, so the id is the whole access check: a capability token of 144 random bits that expires after
 * `ttlMs`. The scheduler's clean-up job deletes expired rows.
 */
export const DEFAULT_FILE_TTL_MS = 7 * 86_400_000;
/**
 * The default limit (SHUXIANG_MAX_FILE_MB): a reading-club yearbook with
 * photos runs to tens of MB; results sheets are kilobytes.
 */
export const MAX_FILE_BYTES = 50 * 1024 * 1024;
/**
 * Bytes are stored in chunks of this size (FileChunk rows): no row, query
 * parameter or driver buffer grows with the file on either database.
 */
export const FILE_CHUNK_BYTES = 1024 * 1024;

/** A file's metadata row; the bytes are read separately (chunks() or get()). */
export interface FileInfo {
  id: string;
  orgId: string;
  name: string;
  contentType: string;
  size: number;
  createdAt: Date;
  expiresAt: Date;
}

export interface StoredFile extends FileInfo {
  bytes: Uint8Array;
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

/**
 * A cap on what one organisation keeps in the store (count and bytes of
 * unexpired files). Used for the sandbox (SHUXIANG_SANDBOX_FILES_MB and
 * SHUXIANG_SANDBOX_FILES): anyone reaching the page can export as often as
 * they like, so a new file makes room by deleting that organisation's
 * oldest files; their links stop working. A single file larger than the
 * cap is refused as too large.
 */
export interface FileQuota {
  bytes: number;
  files: number;
  /** Whether the cap applies to this organisation (the sandbox's), asked once per put. */
  appliesTo(orgId: string, db: Tx | Db): Promise<boolean>;
}

export interface FileStore {
  /** Stores a file and returns its link; pass `tx` to store it with the rest of a transaction. */
  put(file: PutFile, tx?: Tx | Db): Promise<FileLink>;
  /** The file with its bytes, or null when unknown or expired (callers must not tell the two apart). */
  get(id: string): Promise<StoredFile | null>;
  /** The metadata only, or null when unknown or expired; never loads the bytes. */
  info(id: string): Promise<FileInfo | null>;
  /** The bytes of a file, chunk by chunk in order (one chunk in memory at a time). */
  chunks(id: string): AsyncIterable<Uint8Array>;
  /** The link to a stored file (absolute under the public URL, else relative). */
  link(id: string, name: string): string;
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
  quota?: FileQuota;
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
  const link = (id: string, name: string) => (base ? `${base}${filePath(id, name)}` : filePath(id, name));

  /**
   * Deletes the organisation's oldest files until `size` more bytes and one
   * more file fit its quota, in the writing transaction. Two puts at once
   * may each keep one file too many; the next put trims again.
   */
  async function makeRoom(db: Tx | Db, orgId: string, size: number, now: Date): Promise<void> {
    const quota = deps.quota;
    if (!quota || !(await quota.appliesTo(orgId, db))) return;
    const kept = await db.downloadFile.findMany({
      where: { orgId, expiresAt: { gt: now } },
      select: { id: true, size: true },
      orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
    });
    let bytes = size;
    const drop: string[] = [];
    kept.forEach((f, i) => {
      if (i + 1 >= quota.files || bytes + f.size > quota.bytes) drop.push(f.id);
      else bytes += f.size;
    });
    if (drop.length === 0) return;
    await db.fileChunk.deleteMany({ where: { fileId: { in: drop } } });
    await db.downloadFile.deleteMany({ where: { id: { in: drop } } });
  }

  /** The metadata row and its chunks, written by one transaction (the caller's, or our own). */
  async function write(db: Tx | Db, id: string, file: PutFile, now: Date, expiresAt: Date): Promise<void> {
    await makeRoom(db, file.orgId, file.bytes.byteLength, now);
    await db.downloadFile.create({
      data: {
        id,
        orgId: file.orgId,
        name: file.name,
        contentType: file.contentType,
        size: file.bytes.byteLength,
        createdAt: now,
        expiresAt,
      },
    });
    // One chunk per statement: a 50 MB file is 50 modest inserts, not one huge one.
    // At least one chunk, so an empty file reads back as empty rather than missing.
    for (let seq = 0, at = 0; seq === 0 || at < file.bytes.byteLength; seq++, at += FILE_CHUNK_BYTES) {
      // A plain copy: Prisma wants a Uint8Array over an ArrayBuffer; Node's Buffer may share a pool.
      const bytes = new Uint8Array(file.bytes.subarray(at, at + FILE_CHUNK_BYTES));
      await db.fileChunk.create({ data: { fileId: id, seq, bytes } });
    }
  }

  async function info(id: string): Promise<FileInfo | null> {
    if (!FILE_ID_PATTERN.test(id)) return null;
    const row = await deps.db.downloadFile.findUnique({ where: { id } });
    if (!row || row.expiresAt.getTime() <= deps.clock.now().getTime()) return null;
    return row;
  }

  async function* chunks(id: string): AsyncIterable<Uint8Array> {
    // Chunk by chunk (by primary key), so a large download never holds the whole file in memory.
    for (let seq = 0; ; seq++) {
      const chunk = await deps.db.fileChunk.findUnique({ where: { fileId_seq: { fileId: id, seq } } });
      if (!chunk) return;
      yield chunk.bytes;
    }
  }

  return {
    maxBytes,
    ttlMs,
    linksWorkOn: (platform) => base !== undefined || platform === 'sandbox',
    link,
    info,
    chunks,

    async put(file, tx) {
      if (file.bytes.byteLength > maxBytes) throw new FileTooLargeError(file.bytes.byteLength, maxBytes);
      const quota = deps.quota;
      if (quota && file.bytes.byteLength > quota.bytes && (await quota.appliesTo(file.orgId, tx ?? deps.db))) {
        throw new FileTooLargeError(file.bytes.byteLength, quota.bytes);
      }
      const id = newFileId();
      const now = deps.clock.now();
      const expiresAt = new Date(now.getTime() + ttlMs);
      if (tx) await write(tx, id, file, now, expiresAt);
      else await deps.db.$transaction((own) => write(own, id, file, now, expiresAt), { timeout: 60_000 });
      return { id, url: link(id, file.name), expiresAt };
    },

    async get(id) {
      const row = await info(id);
      if (!row) return null;
      const bytes = new Uint8Array(row.size);
      let at = 0;
      for await (const chunk of chunks(id)) {
        bytes.set(chunk.subarray(0, Math.max(0, row.size - at)), at);
        at += chunk.byteLength;
      }
      // Fewer bytes than recorded: the row outlived its chunks (a half-finished clean-up).
      if (at < row.size) return null;
      return { ...row, bytes };
    },
  };
}
