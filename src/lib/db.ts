import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { watchSqliteLog, type CheckpointLog, type SqliteCheckpointer } from './sqlite-checkpointer.ts';
import { gateBareWrites } from './sqlite-write-gate.ts';
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
  /** Raw statements for hot paths (see SqlExec). */
  sql: SqlExec;
  close(): Promise<void>;
}

/**
 * Raw SQL without Prisma's per-statement cost, for the statements on an
 * ack's path (the inbox's and the inbound keys' group commits). On SQLite it
 * runs on the better-sqlite3 connection Prisma's adapter holds, so it sees
 * and joins exactly what a Prisma query outside a transaction would; a
 * Prisma `$executeRawUnsafe` costs about 390 µs of CPU against 36 µs for the
 * same prepared statement run directly (one run, 2026-11-29). Dates are
 * bound as the adapter stores them (sqlStamp). On PostgreSQL it is Prisma's
 * raw API: a round trip costs more than Prisma there, and the adapter's
 * date handling stays in one place.
 */
export interface SqlExec {
  /** Runs a statement; returns the number of rows it changed. */
  execute(sql: string, ...args: unknown[]): Promise<number>;
  /** Runs a statement that returns rows (SELECT, or RETURNING). */
  query<T>(sql: string, ...args: unknown[]): Promise<T[]>;
  /**
   * SQLite: whether a transaction is open on the one connection right now.
   * Prisma's adapter serialises its transactions with a lock that statements
   * outside them do not take: a statement run while one is open joins it,
   * commits with it, and is lost with it when it rolls back or the process
   * dies first. A statement run while none is open commits by itself before
   * anything else can run (better-sqlite3 is synchronous). Absent on
   * PostgreSQL, where every statement outside a transaction commits alone.
   */
  inTransaction?(): boolean;
  /**
   * SQLite: runs `work` as one transaction of its own (BEGIN IMMEDIATE …
   * COMMIT; ROLLBACK when it throws), synchronously, so nothing else can run
   * on the connection in between. Only when `inTransaction()` is false; it
   * throws otherwise. Absent on PostgreSQL.
   */
  transactionSync?<T>(work: (sql: SyncSql) => T): T;
}

/** Statements inside `SqlExec.transactionSync`: synchronous, dates bound as sqlStamp. */
export interface SyncSql {
  run(sql: string, ...args: unknown[]): number;
  all<T>(sql: string, ...args: unknown[]): T[];
}

/**
 * Runs single-statement `write` so that it is committed when this resolves:
 * on its own when the connection has no transaction open (no Prisma
 * transaction's cost), else in a transaction of its own, after the open one.
 * A statement that shared someone else's transaction is not committed when
 * it returns, so an ack must never depend on one.
 */
export async function committedAlone<T>(
  prisma: Db,
  sql: SqlExec | undefined,
  write: (exec: SqlExec | Tx) => Promise<T>,
): Promise<T> {
  if (!sql) return prisma.$transaction((tx) => write(tx));
  // PostgreSQL: a statement outside a transaction commits alone.
  if (!sql.inTransaction) return write(sql);
  // Nothing runs between the check and the statement: the write starts synchronously.
  if (!sql.inTransaction()) return write(sql);
  return prisma.$transaction(() => {
    // Ours, under the adapter's lock; were it already closed (timed out), the statement must not run bare.
    if (!sql.inTransaction!()) throw new Error('the transaction closed before its statement ran');
    return write(sql);
  });
}

/** Raw statements through whichever client is at hand: a SqlExec as it is, Prisma's through its raw API. */
export function execOf(db: Db | Tx | SqlExec): SqlExec {
  return 'execute' in db
    ? db
    : {
        execute: (text, ...args) => db.$executeRawUnsafe(text, ...args),
        query: <T>(text: string, ...args: unknown[]) => db.$queryRawUnsafe<T[]>(text, ...args),
      };
}

/** One write statement that returns rows (RETURNING), committed when this resolves (committedAlone). */
export function queryAlone<T>(prisma: Db, sql: SqlExec | undefined, text: string, ...args: unknown[]): Promise<T[]> {
  return committedAlone(prisma, sql, (exec) => execOf(exec).query<T>(text, ...args));
}

/** The minimum of better-sqlite3's Database this module uses. */
interface SqliteHandle {
  readonly inTransaction: boolean;
  prepare(sql: string): {
    reader: boolean;
    run(...args: unknown[]): { changes: number };
    all(...args: unknown[]): unknown[];
  };
}

function directSqlite(handle: () => SqliteHandle): SqlExec {
  // Hot statements are few and their text never changes with the batch (lib/sql-insert.ts).
  const statements = new Map<string, ReturnType<SqliteHandle['prepare']>>();
  const bind = (args: unknown[]) =>
    args.map((a) => (a instanceof Date ? sqlStamp(a) : typeof a === 'boolean' ? Number(a) : a));
  const prepared = (sql: string) => {
    let st = statements.get(sql);
    if (!st) {
      st = handle().prepare(sql);
      if (statements.size >= 200) statements.clear();
      statements.set(sql, st);
    }
    return st;
  };
  const sync: SyncSql = {
    run: (sql, ...args) => prepared(sql).run(...bind(args)).changes,
    all: <T>(sql: string, ...args: unknown[]) => prepared(sql).all(...bind(args)) as T[],
  };
  return {
    execute: (sql, ...args) => {
      try {
        return Promise.resolve(prepared(sql).run(...bind(args)).changes);
      } catch (err) {
        return Promise.reject(err as Error);
      }
    },
    query: <T>(sql: string, ...args: unknown[]) => {
      try {
        return Promise.resolve(prepared(sql).all(...bind(args)) as T[]);
      } catch (err) {
        return Promise.reject(err as Error);
      }
    },
    inTransaction: () => handle().inTransaction,
    transactionSync<T>(work: (sql: SyncSql) => T): T {
      if (handle().inTransaction) throw new Error('transactionSync: a transaction is already open');
      prepared('BEGIN IMMEDIATE').run();
      try {
        const result = work(sync);
        prepared('COMMIT').run();
        return result;
      } catch (err) {
        if (handle().inTransaction) prepared('ROLLBACK').run();
        throw err;
      }
    },
  };
}

function viaPrisma(prisma: Db): SqlExec {
  return {
    execute: (sql, ...args) => prisma.$executeRawUnsafe(sql, ...args),
    query: <T>(sql: string, ...args: unknown[]) => prisma.$queryRawUnsafe<T[]>(sql, ...args),
  };
}

/** DateTime as Prisma's SQLite adapter stores it (text comparisons must agree); PostgreSQL reads it too. */
export const sqlStamp = (d: Date) => d.toISOString().replace('Z', '+00:00');

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
  /** PostgreSQL: connections in the pool (default 20; node-postgres alone would keep 10). */
  poolSize?: number;
  /** SQLite file: checkpoint on a worker thread from the first burst of writes (default true; lib/sqlite-checkpointer.ts). */
  checkpointThread?: boolean;
  /** SQLite file: the log file's size that starts the checkpoint thread (default 2 MB; tests). */
  checkpointStartAtBytes?: number;
  /**
   * Where SQLite's helpers report trouble: the checkpoint thread (once per run of failures), and a
   * write that waited over a second for an open transaction (lib/sqlite-write-gate.ts).
   */
  log?: CheckpointLog;
}

/**
 * PostgreSQL: how long an interactive transaction waits for a connection
 * before failing. Prisma's default 2 s failed the answer batches of a 09:00
 * burst with "Unable to start a transaction in the given time" once more
 * requests were in flight than the pool has connections (bench:province);
 * a burst beyond the pool should queue, and the platforms retry a click that
 * is not acknowledged in time anyway. The timeout once started stays 5 s.
 */
export const PG_TRANSACTION_MAX_WAIT_MS = 15_000;

export async function openDatabase(url: string, options: OpenOptions = {}): Promise<Database> {
  const provider = providerOf(url);
  let prisma: Db;
  let sqlite: SqliteHandle | undefined;
  let checkpointer: SqliteCheckpointer | undefined;
  const file = provider === 'sqlite' ? sqlitePath(url) : undefined;
  if (file !== undefined) {
    if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    // Each provider's client and driver load only when used: a SQLite bot never pays for pg.
    const [{ PrismaBetterSqlite3 }, { PrismaClient }] = await Promise.all([
      import('@prisma/adapter-better-sqlite3'),
      import('../generated/sqlite/client.ts'),
    ]);
    const factory = new PrismaBetterSqlite3({ url: file });
    // Keep hold of the connection the adapter opens, for SqlExec's direct statements, and keep
    // writes outside a transaction out of the open one (lib/sqlite-write-gate.ts).
    const connect = factory.connect.bind(factory);
    factory.connect = async () => {
      const adapter = await connect();
      sqlite = (adapter as unknown as { client: SqliteHandle }).client;
      gateBareWrites(adapter as unknown as Parameters<typeof gateBareWrites>[0], sqlite, {
        afterMs: 1000,
        report: (ms, sql) =>
          options.log?.(
            'warn',
            `a write waited ${ms} ms for an open transaction (a write outside a transaction, made by code inside it, waits until the transaction times out): ${sql.slice(0, 80)}`,
          ),
      });
      return adapter;
    };
    prisma = new PrismaClient({ adapter: factory });
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
    const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 20 });
    pool.on('connect', (client) => client.on('error', lost));
    const adapter = new PrismaPg(pool, { onPoolError: lost, onConnectionError: lost, disposeExternalPool: true });
    prisma = new PrismaClient({
      adapter,
      transactionOptions: { maxWait: PG_TRANSACTION_MAX_WAIT_MS, timeout: 5_000 },
    }) as unknown as Db;
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
    // (filled only as used) keeps them in memory.
    await prisma.$queryRawUnsafe('PRAGMA cache_size = -65536');
  } else {
    await prisma.$queryRawUnsafe('SELECT 1');
  }
  const handle = () => {
    if (!sqlite) throw new Error('the SQLite connection is not open');
    return sqlite;
  };
  if (file !== undefined && file !== ':memory:' && options.checkpointThread !== false) {
    // Checkpoints off the event loop from the first burst of writes on (lib/sqlite-checkpointer.ts);
    // a burst's log file is cut back to 64 MB once the log starts over.
    await prisma.$queryRawUnsafe('PRAGMA journal_size_limit = 67108864');
    checkpointer = watchSqliteLog({
      file: path.resolve(file),
      target: {
        inTransaction: () => handle().inTransaction,
        checkpoint: () => void handle().prepare('PRAGMA wal_checkpoint(PASSIVE)').all(),
        setAutocheckpoint: (pages) => void handle().prepare(`PRAGMA wal_autocheckpoint = ${pages}`).all(),
      },
      log: options.log,
      ...(options.checkpointStartAtBytes !== undefined ? { startAtBytes: options.checkpointStartAtBytes } : {}),
    });
  }
  return {
    provider,
    url,
    prisma,
    sql: provider === 'sqlite' ? directSqlite(handle) : viaPrisma(prisma),
    async close() {
      // The worker's connection first: the last one to close checkpoints and removes the log.
      await checkpointer?.stop();
      await prisma.$disconnect();
    },
  };
}

/** True when an error is a unique-constraint violation (P2002) from either provider. */
export function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && (err as { code?: unknown }).code === 'P2002';
}

/**
 * The same for a raw statement ($executeRaw / $queryRaw), which Prisma
 * reports as P2010 with the driver's own code: SQLite's constraint name or
 * PostgreSQL's SQLSTATE 23505; or run directly on SQLite (Database.sql).
 */
export function isRawUniqueViolation(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const own = String((err as { code?: unknown }).code ?? '');
  if (own.startsWith('SQLITE_CONSTRAINT_UNIQUE') || own.startsWith('SQLITE_CONSTRAINT_PRIMARYKEY')) return true;
  if (own !== 'P2010') return false;
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
