import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Database, Provider } from './db.ts';

/**
 * Applies the shipped Prisma migrations at start-up and records them in
 * `_prisma_migrations` exactly as `prisma migrate deploy` does (same table,
 * same sha256 checksum), so the CLI and the app agree on what is applied.
 * We do this ourselves because the CLI's schema engine binary cannot be
 * downloaded on offline machines (see docs/decisions.md).
 */
export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export interface Migrator {
  pending(): Promise<Migration[]>;
  migrate(): Promise<string[]>;
}

const TABLE_SQL: Record<Provider, string> = {
  sqlite: `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id" TEXT PRIMARY KEY NOT NULL,
    "checksum" TEXT NOT NULL,
    "finished_at" DATETIME,
    "migration_name" TEXT NOT NULL,
    "logs" TEXT,
    "rolled_back_at" DATETIME,
    "started_at" DATETIME NOT NULL DEFAULT current_timestamp,
    "applied_steps_count" INTEGER UNSIGNED NOT NULL DEFAULT 0
  )`,
  postgresql: `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id" VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum" VARCHAR(64) NOT NULL,
    "finished_at" TIMESTAMPTZ,
    "migration_name" VARCHAR(255) NOT NULL,
    "logs" TEXT,
    "rolled_back_at" TIMESTAMPTZ,
    "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count" INTEGER NOT NULL DEFAULT 0
  )`,
};

export function migrationsDir(provider: Provider, root = process.cwd()): string {
  return provider === 'sqlite'
    ? path.join(root, 'prisma', 'migrations')
    : path.join(root, 'prisma', 'postgres', 'migrations');
}

export function readMigrations(dir: string): Migration[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(path.join(dir, d.name, 'migration.sql')))
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(path.join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

export function createMigrator(db: Database, dir = migrationsDir(db.provider)): Migrator {
  const prisma = db.prisma;
  // SQLite takes `?` placeholders, PostgreSQL `$n`.
  const ph = (n: number) => (db.provider === 'sqlite' ? '?' : `$${n}`);

  async function applied(): Promise<Map<string, string>> {
    await prisma.$executeRawUnsafe(TABLE_SQL[db.provider]);
    const rows = await prisma.$queryRawUnsafe<{ migration_name: string; checksum: string }[]>(
      `SELECT migration_name, checksum FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
    );
    return new Map(rows.map((r) => [r.migration_name, r.checksum]));
  }

  async function pending(): Promise<Migration[]> {
    const done = await applied();
    const all = readMigrations(dir);
    for (const m of all) {
      const sum = done.get(m.name);
      if (sum !== undefined && sum !== m.checksum) {
        throw new Error(
          `Migration ${m.name} was modified after it was applied (checksum differs). Ship a new migration instead of editing an applied one.`,
        );
      }
    }
    return all.filter((m) => !done.has(m.name));
  }

  return {
    pending,
    async migrate() {
      // One transaction: a failing migration leaves nothing half-applied
      // (DDL is transactional in both SQLite and PostgreSQL).
      return prisma.$transaction(
        async (tx) => {
          if (db.provider === 'postgresql') {
            // Serialise concurrent start-ups of several instances on one database.
            await tx.$executeRawUnsafe('SELECT pg_advisory_xact_lock(72677269)');
          }
          return applyAll(tx as unknown as typeof prisma);
        },
        { timeout: 120_000, maxWait: 60_000 },
      );
    },
  };

  async function applyAll(client: typeof prisma): Promise<string[]> {
    await client.$executeRawUnsafe(TABLE_SQL[db.provider]);
    const done = new Set(
      (
        await client.$queryRawUnsafe<{ migration_name: string }[]>(
          `SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
        )
      ).map((r) => r.migration_name),
    );
    const names: string[] = [];
    for (const m of readMigrations(dir)) {
      if (done.has(m.name)) continue;
      const id = randomUUID();
      const now = new Date().toISOString();
      await client.$executeRawUnsafe(
        `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count) VALUES (${ph(1)}, ${ph(2)}, ${ph(3)}, ${ph(4)}, 0)`,
        id,
        m.checksum,
        m.name,
        db.provider === 'sqlite' ? now : new Date(now),
      );
      try {
        for (const statement of splitStatements(m.sql)) await client.$executeRawUnsafe(statement);
      } catch (err) {
        throw new Error(`Migration ${m.name} failed: ${String(err)}`, { cause: err });
      }
      await client.$executeRawUnsafe(
        `UPDATE "_prisma_migrations" SET finished_at = ${ph(1)}, applied_steps_count = 1 WHERE id = ${ph(2)}`,
        db.provider === 'sqlite' ? new Date().toISOString() : new Date(),
        id,
      );
      names.push(m.name);
    }
    return names;
  }
}

/**
 * Splits a migration script into statements. Prisma's generated scripts put
 * one statement per `;`-terminated line group and never use `;` inside
 * literals for our models; comments are dropped.
 */
export function splitStatements(sql: string): string[] {
  return sql
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('--'))
    .join('\n')
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
