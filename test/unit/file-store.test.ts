import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { offerDownload } from '../../src/bot/downloads.ts';
import { createMessages } from '../../src/bot/messages.ts';
import {
  createFileStore,
  DEFAULT_FILE_TTL_MS,
  FILE_CHUNK_BYTES,
  FileTooLargeError,
  MAX_FILE_BYTES,
  newFileId,
} from '../../src/files/file-store.ts';
import { contentDisposition } from '../../src/files/routes.ts';
import { createManualClock } from '../../src/lib/clock.ts';
import { providers } from '../helpers/databases.ts';
import { openMigrated } from '../helpers/migrated-db.ts';

const { t } = createMessages();
const file = (bytes: Uint8Array, name = '成绩表.xlsx') => ({
  orgId: 'org-1',
  name,
  contentType: 'application/octet-stream',
  bytes,
});

describe('file ids', () => {
  it('are 144 random bits in base64url, never repeated', () => {
    const ids = Array.from({ length: 2000 }, newFileId);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(Buffer.from(ids[0]!, 'base64url')).toHaveLength(18);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('content-disposition', () => {
  it('gives the UTF-8 name for Chinese file names and an ASCII fallback', () => {
    expect(contentDisposition("闭卷测试第1场成绩-党建(一)'.xlsx")).toBe(
      "attachment; filename=\"_____1___-__(_)'.xlsx\"; filename*=UTF-8''%E9%97%AD%E5%8D%B7%E6%B5%8B%E8%AF%95%E7%AC%AC1%E5%9C%BA%E6%88%90%E7%BB%A9-%E5%85%9A%E5%BB%BA%28%E4%B8%80%29%27.xlsx",
    );
    expect(contentDisposition('a"b\\c.csv')).toBe('attachment; filename="a_b_c.csv"; filename*=UTF-8\'\'a%22b%5Cc.csv');
  });
});

describe.each(providers)('file store on $name', ({ create }) => {
  let env: Awaited<ReturnType<typeof openMigrated>>;
  beforeEach(async () => {
    env = await openMigrated(create);
  });
  afterEach(async () => {
    await env.close();
  });

  it('keeps the bytes for 7 days behind a relative link, then forgets them', async () => {
    const clock = createManualClock('2026-03-02T12:00:00Z');
    const files = createFileStore({ db: env.database.prisma, clock });
    const bytes = Buffer.from([0, 1, 2, 250, 251, 255]);
    const link = await files.put(file(bytes));
    expect(link.url).toBe(`/files/${link.id}/%E6%88%90%E7%BB%A9%E8%A1%A8.xlsx`);
    expect(link.expiresAt.getTime() - clock.now().getTime()).toBe(DEFAULT_FILE_TTL_MS);
    const stored = await files.get(link.id);
    expect(Buffer.from(stored!.bytes)).toEqual(bytes);
    expect(stored).toMatchObject({ name: '成绩表.xlsx', size: 6, orgId: 'org-1' });
    clock.advance(DEFAULT_FILE_TTL_MS - 1);
    expect(await files.get(link.id)).not.toBeNull();
    clock.advance(1);
    expect(await files.get(link.id)).toBeNull();
    expect(await files.get(newFileId())).toBeNull();
    expect(await files.get('../../etc/passwd')).toBeNull();
  });

  it('makes absolute links under the public URL', async () => {
    const files = createFileStore({
      db: env.database.prisma,
      clock: createManualClock(),
      publicUrl: 'https://bot.example.org/',
    });
    const link = await files.put(file(Buffer.from('x'), 'a.csv'));
    expect(link.url).toBe(`https://bot.example.org/files/${link.id}/a.csv`);
    expect(files.linksWorkOn('feishu')).toBe(true);
  });

  it('refuses a file over the limit and stores nothing', async () => {
    const files = createFileStore({ db: env.database.prisma, clock: createManualClock() });
    expect(files.maxBytes).toBe(MAX_FILE_BYTES);
    await expect(files.put(file(Buffer.alloc(MAX_FILE_BYTES + 1)))).rejects.toBeInstanceOf(FileTooLargeError);
    await expect(files.put(file(Buffer.alloc(MAX_FILE_BYTES + 1)))).rejects.toThrow(
      /larger than the 52428800-byte limit/,
    );
    expect(await env.database.prisma.downloadFile.count()).toBe(0);
    expect(await env.database.prisma.fileChunk.count()).toBe(0);
  });

  it('keeps a 25 MiB file in 1 MiB chunks and gives back the same bytes, whole or streamed', async () => {
    const db = env.database.prisma;
    const files = createFileStore({ db, clock: createManualClock() });
    const bytes = randomBytes(25 * 1024 * 1024 + 12_345);
    const link = await files.put(file(bytes, '读书会年鉴.docx'));
    // The metadata row holds no bytes; the chunks do, none over 1 MiB.
    const chunks = await db.fileChunk.findMany({ where: { fileId: link.id }, select: { seq: true, bytes: true } });
    expect(chunks.map((c) => c.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 26 }, (_, i) => i));
    expect(Math.max(...chunks.map((c) => c.bytes.byteLength))).toBe(FILE_CHUNK_BYTES);
    expect(await files.info(link.id)).toMatchObject({ name: '读书会年鉴.docx', size: bytes.length });
    expect(Buffer.from((await files.get(link.id))!.bytes).equals(bytes)).toBe(true);
    const streamed: Uint8Array[] = [];
    for await (const c of files.chunks(link.id)) streamed.push(c);
    expect(Buffer.concat(streamed).equals(bytes)).toBe(true);
  });

  it("stores a file inside the caller's transaction: rolled back, nothing is left", async () => {
    const db = env.database.prisma;
    const files = createFileStore({ db, clock: createManualClock() });
    await expect(
      db.$transaction(async (tx) => {
        await files.put(file(randomBytes(3 * 1024 * 1024)), tx);
        throw new Error('the feature failed after storing');
      }),
    ).rejects.toThrow(/feature failed/);
    expect(await db.downloadFile.count()).toBe(0);
    expect(await db.fileChunk.count()).toBe(0);
    // An empty file is still a file: one empty chunk, read back as zero bytes.
    const empty = await files.put(file(new Uint8Array(0), 'empty.md'));
    expect((await files.get(empty.id))!.bytes.byteLength).toBe(0);
  });

  it('offers a link only where it can be opened, and says why not otherwise', async () => {
    const db = env.database.prisma;
    const files = createFileStore({ db, clock: createManualClock() });
    const input = { ...file(Buffer.from('x')), buttonText: '下载' };
    expect(files.linksWorkOn('sandbox')).toBe(true);
    const sandbox = await offerDownload(files, t, { ...input, platform: 'sandbox' });
    expect(sandbox.link).toMatchObject({ type: 'link', text: '下载', url: expect.stringMatching(/^\/files\//) });
    expect(sandbox.note).toBe('下载链接 7 天内有效，知道链接的人都能下载，请勿转发给无关人员。');
    for (const platform of ['feishu', 'dingtalk']) {
      const offered = await offerDownload(files, t, { ...input, platform });
      expect(offered.link).toBeNull();
      expect(offered.note).toContain('没有配置公网地址（SHUXIANG_PUBLIC_URL）');
    }
    expect(await db.downloadFile.count()).toBe(1);
    const tooBig = await offerDownload(files, t, {
      ...input,
      bytes: Buffer.alloc(MAX_FILE_BYTES + 1024 * 1024),
      platform: 'sandbox',
    });
    expect(tooBig).toEqual({
      link: null,
      note: '文件太大（51.0 MB），超过了下载文件 50 MB 的上限，无法生成下载链接。',
    });
    expect(await db.downloadFile.count()).toBe(1);
  });
});
