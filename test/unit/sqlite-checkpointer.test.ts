import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/lib/db.ts';
import {
  BACKSTOP_AUTOCHECKPOINT,
  startSqliteCheckpointer,
  watchSqliteLog,
  type SqliteCheckpointer,
} from '../../src/lib/sqlite-checkpointer.ts';

let dir: string;
let app: Database.Database;
let checkpointer: SqliteCheckpointer | undefined;
const file = () => path.join(dir, 'db.sqlite');
const walBytes = () => (existsSync(`${file()}-wal`) ? statSync(`${file()}-wal`).size : 0);

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'checkpointer-'));
  app = new Database(file());
  app.pragma('journal_mode = WAL');
  app.pragma('synchronous = NORMAL');
  // Only the worker (and what it asks of this connection) checkpoints: SQLite's own is off.
  app.pragma('wal_autocheckpoint = 0');
  app.pragma('journal_size_limit = 262144');
  app.exec('CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT)');
});

afterEach(async () => {
  await checkpointer?.stop();
  checkpointer = undefined;
  app.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Transactions of random-key rows, one per turn of the event loop, like the answer path's group commits. */
async function writeFor(transactions: number, onTurn?: () => void): Promise<number> {
  const insert = app.prepare('INSERT INTO t (k, v) VALUES (?, ?)');
  const batch = app.transaction((n: number) => {
    for (let i = 0; i < 20; i++) insert.run(`${Math.random()}-${n}-${i}`, 'x'.repeat(200));
  });
  let peak = 0;
  for (let n = 0; n < transactions; n++) {
    batch(n);
    peak = Math.max(peak, walBytes());
    onTurn?.();
    await new Promise((r) => setTimeout(r, 2));
  }
  return peak;
}

describe('SQLite checkpoints on a worker thread', () => {
  it('keeps the log from growing under a writer that never pauses: the app copies the last frames and the log starts over', async () => {
    checkpointer = startSqliteCheckpointer({
      file: file(),
      target: {
        inTransaction: () => app.inTransaction,
        checkpoint: () => void app.pragma('wal_checkpoint(PASSIVE)'),
      },
      everyMs: 50,
      restartFrames: 50,
    });
    const peak = await writeFor(900);
    // Written in all: 900 commits of fresh random-key pages, over 50 MB of frames. A passive
    // checkpoint alone never catches this writer, and the log would hold all of it (36 MB
    // after 600 commits, measured with the app's last copy left out). The bounds leave room
    // for a worker starved of CPU on a busy machine.
    expect(checkpointer.finishes()).toBeGreaterThan(2);
    expect(peak).toBeLessThan(16 * 1024 * 1024);
    expect(walBytes()).toBeLessThan(16 * 1024 * 1024);
    // Everything committed is there, in one piece.
    expect((app.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n).toBe(900 * 20);
    expect(app.pragma('integrity_check', { simple: true })).toBe('ok');
  });

  it('never checkpoints the app connection inside an open transaction; it does once the transaction is over', async () => {
    let open = true;
    let calls = 0;
    checkpointer = startSqliteCheckpointer({
      file: file(),
      target: {
        inTransaction: () => open,
        checkpoint: () => {
          calls++;
          app.pragma('wal_checkpoint(PASSIVE)');
        },
      },
      everyMs: 20,
      restartFrames: 10,
    });
    await writeFor(100);
    expect(calls).toBe(0);
    expect(checkpointer.finishes()).toBe(0);
    open = false;
    // Until the worker's next passes have asked (bounded: a few seconds on a busy machine).
    for (let i = 0; i < 100 && calls === 0; i++) await writeFor(10);
    expect(calls).toBeGreaterThan(0);
    expect(checkpointer.finishes()).toBe(calls);
  });
});

describe('the checkpoint thread starts with the first burst of writes', () => {
  it('costs nothing while the log stays small, and starts (the app’s own checkpoint becoming the backstop) once it grows', async () => {
    const autocheckpoints: number[] = [];
    checkpointer = watchSqliteLog({
      file: file(),
      target: {
        inTransaction: () => app.inTransaction,
        checkpoint: () => void app.pragma('wal_checkpoint(PASSIVE)'),
        setAutocheckpoint: (pages) => {
          autocheckpoints.push(pages);
          app.pragma(`wal_autocheckpoint = ${pages}`);
        },
      },
      startAtBytes: 1024 * 1024,
      pollMs: 20,
      everyMs: 50,
      restartFrames: 50,
    });
    // A few small writes: the log stays far under 1 MB.
    app.prepare('INSERT INTO t (k, v) VALUES (?, ?)').run('a', 'b');
    await new Promise((r) => setTimeout(r, 200));
    expect(checkpointer.running()).toBe(false);
    expect(autocheckpoints).toEqual([]);
    // A burst: the log passes 1 MB, the worker starts and keeps the log from growing from then on.
    for (let i = 0; i < 100 && !checkpointer.running(); i++) await writeFor(10);
    expect(checkpointer.running()).toBe(true);
    expect(autocheckpoints).toEqual([BACKSTOP_AUTOCHECKPOINT]);
    for (let i = 0; i < 100 && checkpointer.finishes() === 0; i++) await writeFor(10);
    expect(checkpointer.finishes()).toBeGreaterThan(0);
  });
});

describe('openDatabase on a SQLite file', () => {
  it('closes the checkpoint thread with the database: close() resolves, and the log is gone afterwards', async () => {
    const url = `file:${path.join(dir, 'app.db')}`;
    // A log of any size starts the thread at the first look (every 2 s).
    const db = await openDatabase(url, { checkpointStartAtBytes: 1 });
    await db.prisma.$executeRawUnsafe('CREATE TABLE x (id INTEGER PRIMARY KEY, v TEXT)');
    for (let i = 0; i < 50; i++) await db.prisma.$executeRawUnsafe('INSERT INTO x (v) VALUES (?)', 'y'.repeat(500));
    expect(existsSync(`${path.join(dir, 'app.db')}-wal`)).toBe(true);
    await new Promise((r) => setTimeout(r, 2500));
    await db.close();
    // The last connection to close copies the log into the database and removes it: the
    // worker's was closed first, so the app's was the last.
    expect(existsSync(`${path.join(dir, 'app.db')}-wal`)).toBe(false);
    const check = new Database(path.join(dir, 'app.db'), { readonly: true });
    expect((check.prepare('SELECT COUNT(*) AS n FROM x').get() as { n: number }).n).toBe(50);
    check.close();
  });
});
