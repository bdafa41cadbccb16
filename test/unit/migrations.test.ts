import { readFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/lib/db.ts';
import { createMigrator, readMigrations, migrationsDir } from '../../src/lib/migrator.ts';
import { diffSql } from '../../scripts/schema-engine.ts';
import { createPostgresTestDatabase, createSqliteTestDatabase, type TestDatabase } from '../helpers/databases.ts';

const dropped: TestDatabase[] = [];
afterAll(async () => {
  for (const d of dropped) await d.drop();
});

describe('migrations on SQLite', () => {
  it('migrate an empty database to exactly the schema, recorded like prisma migrate', async () => {
    const t = await createSqliteTestDatabase();
    dropped.push(t);
    const db = await openDatabase(t.url);
    const migrator = createMigrator(db);
    const applied = await migrator.migrate();
    expect(applied).toEqual(readMigrations(migrationsDir('sqlite')).map((m) => m.name));
    expect(await migrator.pending()).toEqual([]);
    expect(await migrator.migrate()).toEqual([]); // idempotent on restart

    const rows = await db.prisma.$queryRawUnsafe<{ migration_name: string; checksum: string; finished_at: unknown }[]>(
      'SELECT migration_name, checksum, finished_at FROM "_prisma_migrations"',
    );
    expect(rows.map((r) => r.checksum)).toEqual(readMigrations(migrationsDir('sqlite')).map((m) => m.checksum));
    expect(rows.every((r) => r.finished_at !== null)).toBe(true);
    await db.close();

    // Prisma's own schema engine finds nothing left to do between the migrated database and the schema.
    const content = readFileSync('prisma/schema.prisma', 'utf8');
    const files = [{ path: 'prisma/schema.prisma', content }];
    const drift = await diffSql(
      'sqlite',
      t.url,
      { tag: 'schemaDatasource', files, configDir: process.cwd() },
      { tag: 'schemaDatamodel', files },
    );
    expect(drift.replace(/--[^\n]*\n?/g, '').trim()).toBe('');
  });

  it('refuses to start when an applied migration was edited afterwards', async () => {
    const t = await createSqliteTestDatabase();
    dropped.push(t);
    const db = await openDatabase(t.url);
    await createMigrator(db).migrate();
    await db.prisma.$executeRawUnsafe(`UPDATE "_prisma_migrations" SET checksum = 'edited'`);
    await expect(createMigrator(db).pending()).rejects.toThrow(/modified after it was applied/);
    await db.close();
  });
});

describe.runIf(process.env.TEST_DATABASE_URL)('migrations on PostgreSQL', () => {
  /** Tables, columns, types, nullability, defaults and indexes of the public schema. */
  async function shape(url: string): Promise<string[]> {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const cols = await c.query(
        `SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns
         WHERE table_schema = 'public' AND table_name <> '_prisma_migrations' ORDER BY table_name, column_name`,
      );
      const idx = await c.query(
        `SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename <> '_prisma_migrations' ORDER BY indexname`,
      );
      const fks = await c.query(
        `SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND conname <> '_prisma_migrations_pkey' ORDER BY conname`,
      );
      return [
        ...cols.rows.map((r) => JSON.stringify(r)),
        ...idx.rows.map((r) => JSON.stringify(r)),
        ...fks.rows.map((r) => JSON.stringify(r)),
      ];
    } finally {
      await c.end();
    }
  }

  it('the shipped migrations build the same database as the schema itself', async () => {
    const viaMigrations = await createPostgresTestDatabase();
    const viaSchema = await createPostgresTestDatabase();
    dropped.push(viaMigrations, viaSchema);

    const db = await openDatabase(viaMigrations.url);
    const migrator = createMigrator(db);
    await migrator.migrate();
    expect(await migrator.pending()).toEqual([]);
    await db.close();

    const content = readFileSync('prisma/postgres/schema.prisma', 'utf8');
    const script = await diffSql(
      'postgresql',
      viaSchema.url,
      { tag: 'empty' },
      { tag: 'schemaDatamodel', files: [{ path: 'prisma/postgres/schema.prisma', content }] },
    );
    const c = new pg.Client({ connectionString: viaSchema.url });
    await c.connect();
    await c.query(script);
    await c.end();

    expect(await shape(viaMigrations.url)).toEqual(await shape(viaSchema.url));
  });
});
