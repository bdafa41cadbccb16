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
