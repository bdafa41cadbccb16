import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFileStore } from '../../src/files/file-store.ts';
import { createManualClock } from '../../src/lib/clock.ts';
import { openDatabase, type Database } from '../../src/lib/db.ts';
import { createMigrator, migrationsDir, readMigrations } from '../../src/lib/migrator.ts';
import { providers, type TestDatabase } from '../helpers/databases.ts';

/**
 * The file_chunks migration moves the bytes out of DownloadFile: a link
 * handed out before the upgrade still downloads after it.
 */
describe.each(providers)('file_chunks migration on $name', ({ create }) => {
  let test: TestDatabase;
  let db: Database;
  let before: string;
  beforeEach(async () => {
    test = await create();
    db = await openDatabase(test.url);
    const dir = migrationsDir(db.provider);
    // Every migration up to (not including) file_chunks, in a directory of their own.
    before = mkdtempSync(path.join(tmpdir(), 'shuxiang-mig-'));
    for (const m of readMigrations(dir)) {
      if (m.name.endsWith('_file_chunks')) break;
      cpSync(path.join(dir, m.name), path.join(before, m.name), { recursive: true });
    }
  });
  afterEach(async () => {
    await db.close();
    await test.drop();
    rmSync(before, { recursive: true, force: true });
  });

  it('copies the bytes of existing files into chunk 0', async () => {
    await createMigrator(db, before).migrate();
    const bytes = Buffer.from([0, 1, 2, 255, 254, 10, 13]);
    const id = 'AAAAAAAAAAAAAAAAAAAAAAAA';
    const at = new Date('2026-03-02T01:00:00Z');
    await db.prisma.$executeRawUnsafe(
      `INSERT INTO "DownloadFile" ("id", "orgId", "name", "contentType", "bytes", "size", "createdAt", "expiresAt") VALUES (${db.provider === 'sqlite' ? "?, 'org-1', '成绩.xlsx', 'application/octet-stream', ?, ?, ?, ?" : "$1, 'org-1', '成绩.xlsx', 'application/octet-stream', $2, $3, $4, $5"})`,
      id,
      bytes,
      bytes.length,
      at,
      new Date(at.getTime() + 86_400_000),
    );
    expect(await createMigrator(db).migrate()).toContainEqual(expect.stringMatching(/_file_chunks$/));
    const files = createFileStore({ db: db.prisma, clock: createManualClock(at) });
    const stored = await files.get(id);
    expect(stored).toMatchObject({ name: '成绩.xlsx', size: bytes.length });
    expect(Buffer.from(stored!.bytes).equals(bytes)).toBe(true);
  });
});
