import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/lib/db.ts';
import { createMigrator, migrationsDir, readMigrations } from '../../src/lib/migrator.ts';
import { providers, type TestDatabase } from '../helpers/databases.ts';

/**
 * The stable_numbers migration gives existing reminders the numbers
 * 提醒列表 showed before the upgrade (active ones in list order), per
 * organisation; cancelled ones come after, and other kinds get none.
 */
describe.each(providers)('stable_numbers migration on $name', ({ create }) => {
  let test: TestDatabase;
  let db: Database;
  let before: string;
  beforeEach(async () => {
    test = await create();
    db = await openDatabase(test.url);
    const dir = migrationsDir(db.provider);
    before = mkdtempSync(path.join(tmpdir(), 'shuxiang-mig-'));
    for (const m of readMigrations(dir)) {
      if (m.name.endsWith('_stable_numbers')) break;
      cpSync(path.join(dir, m.name), path.join(before, m.name), { recursive: true });
    }
  });
  afterEach(async () => {
    await db.close();
    await test.drop();
    rmSync(before, { recursive: true, force: true });
  });

  it('numbers existing reminders as the list showed them', async () => {
    await createMigrator(db, before).migrate();
    const rows: [id: string, org: string, kind: string, status: string, minute: number][] = [
      ['r1', 'org-a', 'reminder', 'cancelled', 1],
      ['r2', 'org-a', 'reminder', 'active', 2],
      ['r3', 'org-b', 'reminder', 'active', 3],
      ['r4', 'org-a', 'reminder', 'stalled', 4],
      ['q1', 'org-a', 'quiz.daily.push', 'active', 5],
      ['r5', 'org-a', 'reminder', 'active', 6],
    ];
    for (const [id, org, kind, status, minute] of rows) {
      const at = new Date(Date.UTC(2026, 2, 2, 1, minute));
      // Raw: the client of today knows columns the old schema does not have.
      const ph = [1, 2, 3, 4, 5, 6, 7].map((i) => (db.provider === 'sqlite' ? '?' : `$${i}`));
      await db.prisma.$executeRawUnsafe(
        `INSERT INTO "ScheduledItem" ("id", "orgId", "kind", "status", "timezone", "payload", "dueAt", "createdAt", "updatedAt") VALUES (${ph[0]}, ${ph[1]}, ${ph[2]}, ${ph[3]}, 'Asia/Shanghai', '{}', ${ph[4]}, ${ph[5]}, ${ph[6]})`,
        id,
        org,
        kind,
        status,
        at,
        at,
        at,
      );
    }
    await createMigrator(db).migrate();
    const seq = Object.fromEntries(
      (await db.prisma.scheduledItem.findMany()).map((r) => [r.id, r.seq] as [string, number | null]),
    );
    expect(seq).toEqual({ r2: 1, r4: 2, r5: 3, r1: 4, r3: 1, q1: null });
  });
});
