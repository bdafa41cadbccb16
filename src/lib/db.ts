import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { PrismaClient as SqliteClient, Prisma } from '../generated/sqlite/client.ts';

/**
 * Both generated clients expose the same models (the schemas are kept in
 * parity by a test), so the rest of the code is written against one type.
 */
export type Db = SqliteClient;
export type Tx = Prisma.TransactionClient;
export type Provider = 'sqlite' | 'postgresql';

export interface Database {
  provider: Provider;
  url: string;
  prisma: Db;
  close(): Promise<void>;
}

export function providerOf(url: string): Provider {
  return /^postgres(ql)?:\/\//i.test(url) ? 'postgresql' : 'sqlite';
}

/** `file:./data/x.db` → `./data/x.db`; better-sqlite3 wants a path. */
export function sqlitePath(url: string): string {
  return url.replace(/^file:/, '');
}

export interface OpenOptions {
  /**
   * Told when the PostgreSQL driver loses a connection outside a query (the
   * server restarted under an idle or checked-out client); lib/db-health.ts
   * turns it into one "database unavailable" line. The pool replaces the
   * client by itself.
   */
  onConnectionLost?: (err: Error) => void;
}

export async function openDatabase(url: string, options: OpenOptions = {}): Promise<Database> {
  const provider = providerOf(url);
  let prisma: Db;
  if (provider === 'sqlite') {
    const file = sqlitePath(url);
    if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    // Each provider's client and driver load only when used: a SQLite bot never pays for pg.
    const [{ PrismaBetterSqlite3 }, { PrismaClient }] = await Promise.all([
      import('@prisma/adapter-better-sqlite3'),
      import('../generated/sqlite/client.ts'),
    ]);
    prisma = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: file }) });
  } else {
    const [{ PrismaPg }, { PrismaClient }, { default: pg }] = await Promise.all([
      import('@prisma/adapter-pg'),
      import('../generated/postgres/client.ts'),
      import('pg'),
    ]);
    const lost = options.onConnectionLost ?? (() => {});
    // Our own pool, so every connection gets an 'error' listener for its whole life: the
    // adapter listens only while a client is idle or inside a transaction, and a server
    // restart that cuts a client in between raised an uncaught exception (the process died).
    const pool = new pg.Pool({ connectionString: url });
    pool.on('connect', (client) => client.on('error', lost));
    const adapter = new PrismaPg(pool, { onPoolError: lost, onConnectionError: lost, disposeExternalPool: true });
    prisma = new PrismaClient({ adapter }) as unknown as Db;
  }
  if (provider === 'sqlite') {
    // WAL lets readers (the sandbox poller, /metrics) run beside the writer;
    // busy_timeout makes a second writer wait instead of failing at once.
    await prisma.$queryRawUnsafe('PRAGMA journal_mode = WAL');
    await prisma.$queryRawUnsafe('PRAGMA busy_timeout = 5000');
    // In WAL mode NORMAL keeps every committed transaction across a crash of
    // the process (SIGKILL included) and never corrupts; only an OS crash or
    // power loss can roll back the last commits. FULL would fsync on every
    // commit, on the event loop (better-sqlite3 is synchronous), which caps
    // card callbacks at a few thousand a second on a busy disk.
    await prisma.$queryRawUnsafe('PRAGMA synchronous = NORMAL');
    // Quiz answers land on random keys in several indexes: a 64 MB page cache
    // (filled only as used) keeps them in memory. The automatic checkpoint
    // stays at SQLite's 4 MB: a larger one bought little throughput and, run
    // inside a commit on the event loop, doubled the p99 at 1,000 answers/s
    // (bench/feishu-ingest). A checkpoint thread measured no clear gain for
    // the memory it costs at start-up.
    await prisma.$queryRawUnsafe('PRAGMA cache_size = -65536');
  } else {
    await prisma.$queryRawUnsafe('SELECT 1');
  }
  return {
    provider,
    url,
    prisma,
    close: () => prisma.$disconnect(),
  };
}

/** True when an error is a unique-constraint violation (P2002) from either provider. */
export function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && (err as { code?: unknown }).code === 'P2002';
}

/**
 * The same for a raw statement ($executeRaw / $queryRaw), which Prisma
 * reports as P2010 with the driver's own code: SQLite's constraint name or
 * PostgreSQL's SQLSTATE 23505.
 */
export function isRawUniqueViolation(err: unknown): boolean {
  if (typeof err !== 'object' || err === null || (err as { code?: unknown }).code !== 'P2010') return false;
  const meta = (err as { meta?: { code?: unknown; message?: unknown } }).meta;
  const code = String(meta?.code ?? '');
  const text = `${String(meta?.message ?? '')} ${(err as { message?: unknown }).message ?? ''}`;
  return (
    code === '23505' ||
    code.startsWith('SQLITE_CONSTRAINT_UNIQUE') ||
    code.startsWith('SQLITE_CONSTRAINT_PRIMARYKEY') ||
    /UNIQUE constraint failed|duplicate key value/.test(text)
  );
}
