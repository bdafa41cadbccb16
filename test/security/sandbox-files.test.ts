import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { providers, type TestDatabase } from '../helpers/databases.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';

/**
 * Finding: with the sandbox on, four imports and six exports added 52.7 MB
 * to the database, and anyone who reaches the page can repeat that. The
 * files one sandbox organisation keeps are capped (SHUXIANG_SANDBOX_FILES_MB,
 * SHUXIANG_SANDBOX_FILES): a new export makes room by deleting the oldest.
 */
describe('the sandbox keeps a bounded set of files per organisation', () => {
  let h: Harness | undefined;
  let database: TestDatabase | undefined;
  afterEach(async () => {
    await h?.close();
    await database?.drop(); // a database handed to the harness is ours to drop
    h = database = undefined;
  });

  const linkOf = (card: { elements: { type: string; url?: string }[] } | undefined) =>
    card?.elements.find((e) => e.type === 'link')?.url ?? '';

  it('a fourth export with a cap of three files removes the oldest; the newest links still work', async () => {
    h = await createHarness({ env: { SHUXIANG_SANDBOX_FILES: '3' } });
    const links: string[] = [];
    for (let i = 0; i < 4; i++) {
      const [reply] = await h.say('dm-sec-wang', 'sec-wang', '题库 导出 CSV');
      links.push(linkOf(reply?.card));
      h.clock.advance(60_000);
    }
    expect(links.every((l) => l.startsWith('/files/'))).toBe(true);
    const db = h.shuxiang.db.prisma;
    expect(await db.downloadFile.count()).toBe(3);
    expect((await h.shuxiang.app.request(links[0]!)).status).toBe(404);
    for (const l of links.slice(1)) expect((await h.shuxiang.app.request(l)).status).toBe(200);
    // The oldest file's bytes went with it.
    const kept = (await db.downloadFile.findMany({ select: { id: true } })).map((f) => f.id);
    expect(await db.fileChunk.count({ where: { fileId: { notIn: kept } } })).toBe(0);
  });

  it.each(providers.map((p) => [p.name, p] as const))(
    '%s: a size cap keeps the organisation under it; a file larger than the cap is refused',
    async (_name, provider) => {
      database = await provider.create();
      h = await createHarness({ database, env: { SHUXIANG_SANDBOX_FILES_MB: '1' } });
      const files = h.shuxiang.files;
      const org = (await h.shuxiang.db.prisma.tenantLink.findFirstOrThrow({ where: { platform: 'sandbox' } })).orgId;
      const mb = (n: number) => new Uint8Array(Math.round(n * 1024 * 1024));
      for (const name of ['a.bin', 'b.bin', 'c.bin']) {
        await files.put({ orgId: org, name, contentType: 'application/octet-stream', bytes: mb(0.4) });
        h.clock.advance(60_000);
      }
      const names = (await h.shuxiang.db.prisma.downloadFile.findMany({ orderBy: { createdAt: 'asc' } })).map(
        (f) => f.name,
      );
      expect(names).toEqual(['b.bin', 'c.bin']);
      await expect(
        files.put({ orgId: org, name: 'big.bin', contentType: 'application/octet-stream', bytes: mb(1.5) }),
      ).rejects.toMatchObject({ name: 'FileTooLargeError', limit: 1024 * 1024 });
      // Another organisation (not the sandbox's) is not capped.
      await h.shuxiang.db.prisma.organisation.create({ data: { id: 'org-other', name: '别的组织' } });
      await files.put({ orgId: 'org-other', name: 'x.bin', contentType: 'application/octet-stream', bytes: mb(1.5) });
      expect(await h.shuxiang.db.prisma.downloadFile.count({ where: { orgId: 'org-other' } })).toBe(1);
    },
  );

  it('config: capped by default only next to a real platform; the settings override', () => {
    const base = { DATABASE_URL: 'file:./x.db' };
    expect(loadConfig(base).sandbox.files).toBeUndefined();
    expect(
      loadConfig({
        ...base,
        FEISHU_APP_ID: 'cli_x',
        FEISHU_APP_SECRET: 's',
        FEISHU_ENCRYPT_KEY: 'k',
        SHUXIANG_SANDBOX: 'on',
      }).sandbox.files,
    ).toEqual({ bytes: 20 * 1024 * 1024, count: 20 });
    expect(loadConfig({ ...base, SHUXIANG_SANDBOX_FILES_MB: '5' }).sandbox.files?.bytes).toBe(5 * 1024 * 1024);
  });
});
