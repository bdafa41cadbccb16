import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * SQLite's WAL checkpoints on a thread of their own.
 *
 * SQLite's automatic checkpoint runs inside the commit that takes the log
 * past 1,000 pages: on the event loop, with two fsyncs, in the middle of an
 * answer's group commit (the 150–800 ms stalls in docs/decisions/feishu.md).
 * A larger automatic checkpoint copies a page rewritten many times only once
 * (about a fifth less CPU per answer) but stalls for longer.
 *
 * Here a worker with its own connection copies the log into the database
 * with PASSIVE checkpoints, which never block the app's writer, once a
 * second. A passive checkpoint never catches a writer that keeps appending,
 * and SQLite only starts the log over once every frame has been copied, so a
 * log left to the worker alone grows without end (measured in the sixth
 * session). So once the log is past `restartFrames` the worker copies what it
 * can twice and asks the app's connection to copy the last few frames
 * itself, between two of its own transactions: a few pages, after which the
 * app's next write starts the log over. The app connection's automatic
 * checkpoint stays on as a backstop at a larger size, should the worker lag
 * or die.
 *
 * Durability is unchanged: commits reach the log exactly as before, and a
 * checkpoint syncs the log and the database as SQLite's own does
 * (synchronous = NORMAL).
 *
 * The worker is started from source text with better-sqlite3 resolved here,
 * like lib/xlsx-thread.ts, so it runs the same under tsx and from the bundle.
 */

/** The app connection's side: what the worker asks it to do. */
export interface CheckpointTarget {
  /** Whether a transaction is open on the app's connection (a checkpoint cannot run inside one). */
  inTransaction(): boolean;
  /** Runs a PASSIVE checkpoint on the app's connection, synchronously. */
  checkpoint(): void;
  /** Sets the app connection's automatic checkpoint, in pages (watchSqliteLog: the backstop once the worker runs). */
  setAutocheckpoint?(pages: number): void;
}

export interface SqliteCheckpointer {
  /** How many times the app's connection finished a checkpoint so the log could start over. */
  finishes(): number;
  /** Whether the worker is running (watchSqliteLog starts it with the first burst of writes). */
  running(): boolean;
  /** Stops the worker and closes its connection. */
  stop(): Promise<void>;
}

/** Where the checkpointer reports trouble: once per run of failures, and once when it recovers. */
export type CheckpointLog = (level: 'warn' | 'info', msg: string) => void;

export interface CheckpointerDeps {
  /** The database file (its log is `${file}-wal`). */
  file: string;
  target: CheckpointTarget;
  log?: CheckpointLog;
  everyMs?: number;
  restartFrames?: number;
}

/** Defaults: a pass a second; the log starts over once it holds 4,000 pages (16 MB at 4 KB pages). */
export const CHECKPOINT_EVERY_MS = 1000;
export const CHECKPOINT_RESTART_FRAMES = 4000;
/** The app connection's own automatic checkpoint while the worker runs: a backstop only (64 MB). */
export const BACKSTOP_AUTOCHECKPOINT = 16000;

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 1000');
db.pragma('synchronous = NORMAL');
db.pragma('wal_autocheckpoint = 0');
let failing = false;
function pass() {
  try {
    const [first] = db.pragma('wal_checkpoint(PASSIVE)');
    if (first.log >= workerData.restartFrames) {
      // What the app appended meanwhile, so that the app's own share is a few pages.
      db.pragma('wal_checkpoint(PASSIVE)');
      parentPort.postMessage({ finish: true });
    }
    if (failing) parentPort.postMessage({ recovered: true });
    failing = false;
  } catch (err) {
    if (!failing) parentPort.postMessage({ failed: String(err && err.message || err) });
    failing = true;
  }
}
const timer = setInterval(pass, workerData.everyMs);
parentPort.on('message', (m) => {
  if (m === 'stop') {
    clearInterval(timer);
    db.close();
    parentPort.close();
  }
});
`;

export function startSqliteCheckpointer(deps: CheckpointerDeps): SqliteCheckpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      driver,
      file: deps.file,
      everyMs: deps.everyMs ?? CHECKPOINT_EVERY_MS,
      restartFrames: deps.restartFrames ?? CHECKPOINT_RESTART_FRAMES,
    },
  });
  // Never what keeps a process alive.
  worker.unref();
  let finishes = 0;
  let stopped = false;
  let alive = true;
  const exited = new Promise<void>((resolve) =>
    worker.once('exit', () => {
      alive = false;
      resolve();
    }),
  );
  worker.on('message', (m: { finish?: boolean; failed?: string; recovered?: boolean }) => {
    if (m.failed) deps.log?.('warn', `SQLite checkpoint thread failing (${m.failed}); the app's own checkpoint covers`);
    if (m.recovered) deps.log?.('info', 'SQLite checkpoint thread checkpointing again');
    // Inside a transaction the checkpoint cannot run; the worker asks again after its next pass.
    if (!m.finish || stopped || deps.target.inTransaction()) return;
    try {
      deps.target.checkpoint();
      finishes++;
    } catch (err) {
      deps.log?.('warn', `SQLite checkpoint on the app connection failed: ${(err as Error).message}`);
    }
  });
  worker.on('error', (err) => deps.log?.('warn', `SQLite checkpoint thread stopped: ${err.message}`));
  return {
    finishes: () => finishes,
    running: () => alive && !stopped,
    async stop() {
      if (stopped) return exited;
      stopped = true;
      // Held until it has closed its connection (unref'd, the process could end first, leaving the promise unsettled).
      worker.ref();
      worker.postMessage('stop');
      await exited;
    },
  };
}

/** The log file's size at which watchSqliteLog starts the worker: about 500 pages, half way to SQLite's own first checkpoint (1,000). */
export const START_AT_LOG_BYTES = 2 * 1024 * 1024;

/**
 * The worker costs about 10 MB of memory (a V8 isolate), which a branch whose bot writes a
 * few rows an hour never needs, and which would take the process past its start-up memory
 * target (bench/startup). So the app starts with SQLite's own checkpoint, and a look at the
 * log file's size every `pollMs` starts the worker (and moves the app's own checkpoint to the
 * backstop size) once the log has reached `startAtBytes`: the first burst of writes. The log
 * file keeps its largest size after SQLite starts it over, so a burst is not missed between
 * two looks.
 */
export function watchSqliteLog(
  deps: CheckpointerDeps & { startAtBytes?: number; pollMs?: number },
): SqliteCheckpointer {
  const startAt = deps.startAtBytes ?? START_AT_LOG_BYTES;
  let worker: SqliteCheckpointer | undefined;
  const timer = setInterval(() => {
    let size: number;
    try {
      size = statSync(`${deps.file}-wal`).size;
    } catch {
      return; // no log yet (or not in WAL mode)
    }
    if (size < startAt) return;
    clearInterval(timer);
    try {
      worker = startSqliteCheckpointer(deps);
      // Only once the worker runs: without it, SQLite's own checkpoint must stay at its usual size.
      deps.target.setAutocheckpoint?.(BACKSTOP_AUTOCHECKPOINT);
    } catch (err) {
      deps.log?.('warn', `SQLite checkpoint thread not started: ${(err as Error).message}`);
    }
  }, deps.pollMs ?? 2000);
  timer.unref();
  return {
    finishes: () => worker?.finishes() ?? 0,
    running: () => worker?.running() ?? false,
    async stop() {
      clearInterval(timer);
      await worker?.stop();
    },
  };
}
