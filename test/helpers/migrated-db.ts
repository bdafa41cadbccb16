import { afterEach, beforeEach } from 'vitest';
import { createMigrator } from '../../src/lib/migrator.ts';
import { openDatabase, type Database } from '../../src/lib/db.ts';
import type { TestDatabase } from './databases.ts';

/** A fresh, migrated database on a provider, for repository-level tests. */
export async function openMigrated(create: () => Promise<TestDatabase>): Promise<{
  database: Database;
  test: TestDatabase;
  close(): Promise<void>;
}> {
  const test = await create();
  const database = await openDatabase(test.url);
  await createMigrator(database).migrate();
  return {
    database,
    test,
    async close() {
      await database.close();
      await test.drop();
    },
  };
}

/**
 * A fresh migrated database for every test of the calling `describe` (opened before each,
 * dropped after each); call the returned function inside a test or a later `beforeEach`.
 */
export function migratedPerTest(create: () => Promise<TestDatabase>): () => Database {
  let opened: Awaited<ReturnType<typeof openMigrated>> | undefined;
  beforeEach(async () => {
    opened = await openMigrated(create);
  });
  afterEach(async () => {
    await opened?.close();
    opened = undefined;
  });
  return () => {
    if (!opened) throw new Error('migratedPerTest: no database outside a test');
    return opened.database;
  };
}
