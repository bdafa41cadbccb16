import pg from 'pg';

/**
 * In CI the PostgreSQL suite must run: a missing TEST_DATABASE_URL or an
 * unreachable server fails the run instead of silently skipping tests.
 */
export default async function setup(): Promise<void> {
  const url = process.env.TEST_DATABASE_URL;
  if (process.env.CI && !url) {
    throw new Error('CI is set but TEST_DATABASE_URL is not: the PostgreSQL suite would be skipped');
  }
  if (!url) return;
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (err) {
    throw new Error(`TEST_DATABASE_URL is set but PostgreSQL is unreachable: ${String(err)}`, { cause: err });
  } finally {
    await client.end().catch(() => {});
  }
}
