import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';

/**
 * A fresh, empty database for one test: a temporary SQLite file, or a new
 * PostgreSQL database on the TEST_DATABASE_URL server. `drop()` removes it.
 */
export interface TestDatabase {
  url: string;
  provider: 'sqlite' | 'postgresql';
  drop(): Promise<void>;
}

export async function createSqliteTestDatabase(): Promise<TestDatabase> {
  const dir = mkdtempSync(path.join(tmpdir(), 'shuxiang-test-'));
  return {
    url: `file:${path.join(dir, 'test.db')}`,
    provider: 'sqlite',
    drop: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

export async function createPostgresTestDatabase(baseUrl = process.env.TEST_DATABASE_URL): Promise<TestDatabase> {
  if (!baseUrl) throw new Error('TEST_DATABASE_URL is not set');
  const name = `shuxiang_t_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(baseUrl);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    provider: 'postgresql',
    async drop() {
      const c = new pg.Client({ connectionString: baseUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** The providers a repository test runs on: SQLite always, PostgreSQL when TEST_DATABASE_URL is set. */
export const providers: { name: 'sqlite' | 'postgresql'; create: () => Promise<TestDatabase> }[] = [
  { name: 'sqlite', create: createSqliteTestDatabase },
  ...(process.env.TEST_DATABASE_URL
    ? [{ name: 'postgresql' as const, create: () => createPostgresTestDatabase() }]
    : []),
];
