import { performance } from 'node:perf_hooks';
import type { Db, Provider, SqlExec, SyncSql, Tx } from '../../lib/db.ts';
import { isRawUniqueViolation } from '../../lib/db.ts';
import type { Logger } from '../../lib/logger.ts';
import { eventKeyInserts, eventKeyRows, keyOf } from '../../lib/inbound-dedupe.ts';
import { jsonInsert, runPlan, runPlanSync, sqlStamp, type WritePlan } from '../../lib/sql-insert.ts';
import { createWriteBatcher } from '../../lib/write-batcher.ts';
import type { AnswerInput, SubmitResult } from './answer-store.ts';
import { isDatabaseUnavailable } from '../../lib/db-health.ts';
import { journalSql } from './answer-journal-sql.ts';

/**
 * The answer journal (docs/decisions/feishu.md, "The answer journal"). A click
 * is acknowledged once its answer is a row of QuizJournal and its click's
 * dedupe row is in InboundEvent: two narrow inserts per group commit (an
 * integer key and one unique key each), instead of the answer, three to six
 * tallies, rank buckets and mistakes. A folder moves journal rows into all of
 * those behind it, in batches (the answer store's set-based writes), and deletes them: 2,000 rows a
 * Prisma transaction on PostgreSQL; on SQLite direct batches sized to hold
 * the event loop about 20 ms each (DIRECT_FOLD_MS).
 *
 * Answer once, across both tables: the journal's unique key (round, member,
 * question) refuses a second answer while the first is unfolded; an answer
 * that gets into the journal is then looked up in QuizAnswer by a *later*
 * statement. A fold moves a row (QuizAnswer insert and journal delete) in one
 * transaction, so by the time an insert no longer meets the journal row, the
 * QuizAnswer row is committed and that later statement sees it, on
 * PostgreSQL's READ COMMITTED too. Only then is the member told anything.
 *
 * Readers of folded data (boards, results, voids, the notebook) call settle()
 * first; in a transaction they pass it, and the fold runs inside it.
 */
export interface AnswerJournal {
  /** Appends one answer (group-committed); resolves once it is durable and known to be the first. */
  append(answer: AnswerInput): Promise<SubmitResult>;
  /** Folds everything in the journal: in `tx` when given, otherwise in short transactions of its own. */
  settle(tx?: Tx | Db): Promise<void>;
  /**
   * One member's answers in one round, folded or not (QuizAnswer's voided flag; a journal row is
   * never voided: a void folds first). For the answer path's own reads, which must not wait for a fold.
   */
  memberAnswers(client: Tx | Db, roundId: string, memberId: string): Promise<MemberAnswer[]>;
  /** One fold batch of up to `limit` rows, skipping rows another instance is folding; how many were folded. */
  foldOnce(limit?: number): Promise<number>;
  /** Folds now and then every `intervalMs` (start-up recovers a crash's unfolded rows). */
  start(intervalMs?: number): void;
  /** Waits for queued appends and stops the timer (rows left are folded at the next start). */
  stop(): Promise<void>;
  flush(): Promise<void>;
}

export interface MemberAnswer {
  position: number;
  correct: boolean;
  /** JSON, as QuizAnswer.response. */
  response: string;
  voided: boolean;
}

/** The answer without its keys, as the fold reads it back (one JSON column: one cell to decode). */
type Data = Omit<AnswerInput, 'roundId' | 'memberId' | 'questionId' | 'event' | 'countInRound' | 'answeredAt'> & {
  answeredAt: string;
};
type JournalRow = {
  id: number | bigint;
  roundId: string;
  memberId: string;
  questionId: string;
  event: string | null;
  data: string;
};

/**
 * "No bound" for the claim's id filter: the id column's own maximum. PostgreSQL's id is an integer
 * (4 bytes) and refuses a larger parameter outright, which once failed every timer fold there;
 * SQLite's is 8 bytes.
 */
const maxId = (pg: boolean) => (pg ? 2_147_483_647 : Number.MAX_SAFE_INTEGER);

/** What the probe says of one appended row (answer-journal-sql.ts). */
type Probed = { i: number | string; t: unknown; d: unknown; n: number | bigint };

/** Rows per fold transaction through Prisma (PostgreSQL, or a caller's transaction). */
const FOLD_BATCH = 2000;
/**
 * A direct fold on SQLite holds the event loop while it runs, so its batch is sized from the last
 * ones to take about this long, and webhooks wait at most that between batches. (A Prisma fold of
 * 2,000 rows held the one connection, and every append behind it, for 130-250 ms of interleaved
 * turns; direct, 2,000 rows take about 160 ms, 250 about 30 ms, 100 about 18 ms: a commit's WAL
 * writes are a large part of a small batch's cost, so batches are not made smaller than needed.)
 */
const DIRECT_FOLD_MS = 20;
const DIRECT_FOLD_MIN = 50;

// A transaction client has no $disconnect (it has $transaction, which throws there).
const isTx = (x: Tx | Db): x is Tx => !('$disconnect' in x);

export function createAnswerJournal(deps: {
  db: Db;
  provider: Provider;
  log: Logger;
  /** Writes folded answers (QuizAnswer, tallies, buckets, mistakes, event keys); true per answer recorded. */
  fold(answers: AnswerInput[]): WritePlan<boolean[]>;
  maxBatch?: number;
  /** Direct statements on SQLite (lib/db.ts), for the click path's reads. */
  sql?: SqlExec;
}): AnswerJournal {
  const { db, provider, log } = deps;
  const pg = provider === 'postgresql';

  const columns = [
    ['roundId', 'text', 'r'],
    ['memberId', 'text', 'm'],
    ['questionId', 'text', 'q'],
    ['event', 'text', 'e'],
    ['data', 'text', 'd'],
  ] as const;
  type Row = { r: string; m: string; q: string; e: string | null; d: string };
  const plainInsert = jsonInsert<Row>(provider, { table: 'QuizJournal', columns });
  const carefulInsert = jsonInsert<Row>(provider, {
    table: 'QuizJournal',
    columns,
    // The answer's key only: a replayed click was refused before, by its dedupe row.
    onConflict: 'ON CONFLICT DO NOTHING',
    returning: '"roundId","memberId","questionId"',
  });

  const { probeSql, probeRowSql, deleteSql, claimSql } = journalSql(pg);
  const eventInsert = eventKeyInserts(provider);
  /** SQLite with direct statements: appends and folds run directly whenever no transaction is open. */
  const canDirect = !pg && deps.sql?.transactionSync !== undefined;
  /** `work` as one synchronous transaction of direct statements, or undefined when it cannot run so now. */
  const directly = <T>(work: (sync: SyncSql) => T): T | undefined =>
    canDirect && deps.sql!.inTransaction?.() === false ? deps.sql!.transactionSync!(work) : undefined;
  let directRows = 250;
  /** How long the last direct fold batch took (the timer rests as long before the next). */
  let lastFoldMs = 0;
  const batchRows = () => (canDirect ? directRows : FOLD_BATCH);

  const answerKey = (a: { roundId: string; memberId: string; questionId: string }) =>
    `${a.roundId}|${a.memberId}|${a.questionId}`;

  function rowOf(a: AnswerInput): Row {
    const { roundId, memberId, questionId, event: _e, countInRound: _c, onRecorded: _o, answeredAt, ...rest } = a;
    const data: Data = { ...rest, answeredAt: sqlStamp(answeredAt) };
    // The click's dedupe row is written with the append (appendBatch). The event column is read by the fold
    // for rows an earlier version appended ("platform:eventKey"), which carried their click here.
    return { r: roundId, m: memberId, q: questionId, e: null, d: JSON.stringify(data) };
  }

  /**
   * One append batch in one transaction: on SQLite the adapter's mutex then
   * orders it after any fold in progress, so the insert is committed (not
   * riding inside someone else's transaction) before anyone is answered.
   * The clicks' dedupe rows (InboundEvent) are written here, with the
   * answers, so a replayed click is refused by its own key at once, whatever
   * answer it carries; the journal row then holds no event.
   */
  async function appendBatch(items: AnswerInput[]): Promise<SubmitResult[]> {
    const out: (SubmitResult | undefined)[] = items.map(() => undefined);
    // The first of several answers with the same key (or clicks with the same event) in one batch
    // wins, as it would one by one. A second answer's click is still a first sighting of its event.
    const firstOf = new Map<string, number>();
    const clicks = new Map<string, number>();
    items.forEach((a, i) => {
      const click = a.event ? keyOf(a.event) : undefined;
      if (click !== undefined && clicks.has(click)) out[i] = { status: 'replayed' };
      else if (firstOf.has(answerKey(a))) out[i] = { status: 'duplicate' };
      else firstOf.set(answerKey(a), i);
      if (click !== undefined && !clicks.has(click)) clicks.set(click, i);
    });
    const first = [...firstOf.values()];
    const events = [...clicks.values()].map((i) => items[i]!.event!);
    const at = items[0]!.answeredAt;
    const run = (careful: boolean) =>
      db.$transaction(
        async (tx) => {
          let fresh = first;
          if (!careful) await eventInsert.plain.run(tx, eventKeyRows(events), at);
          else {
            const seen = await eventInsert.returning.run<{ platform: string; eventKey: string }>(
              tx,
              eventKeyRows(events),
              at,
            );
            const known = new Set(seen.map(keyOf));
            // A click seen before is a replay, whatever answer it carries.
            fresh = fresh.filter((i) => {
              const e = items[i]!.event;
              if (!e || known.has(keyOf(e))) return true;
              out[i] = { status: 'replayed' };
              return false;
            });
          }
          let inserted = fresh;
          const rows = fresh.map((i) => rowOf(items[i]!));
          if (!careful) await plainInsert.run(tx, rows);
          else {
            const got = await carefulInsert.run<{ roundId: string; memberId: string; questionId: string }>(tx, rows);
            const keys = new Set(got.map(answerKey));
            inserted = fresh.filter((i) => keys.has(answerKey(items[i]!)));
            for (const i of fresh) if (!keys.has(answerKey(items[i]!))) out[i] = { status: 'duplicate' };
          }
          if (!inserted.length) return { inserted, probed: [] };
          const probed = await probe(tx, items, inserted);
          // What a recorded answer says (a typed answer's private reply) commits with it.
          const before = new Set(probed.filter((p) => Number(p.d)).map((p) => Number(p.i)));
          for (const i of inserted) if (!before.has(i)) await items[i]!.onRecorded?.(tx);
          return { inserted, probed };
        },
        { timeout: 60_000 },
      );
    /**
     * The plain attempt without Prisma where it can be: on SQLite with no transaction open and
     * nothing to write with the answers (onRecorded needs Prisma's client), the inserts and the
     * probe run as one synchronous transaction of their own on the connection, committed before
     * this returns. Undefined when it cannot.
     */
    const direct = (): Awaited<ReturnType<typeof run>> | undefined => {
      if (first.some((i) => items[i]!.onRecorded)) return undefined;
      return directly((sync) => {
        eventInsert.plain.runSync(sync, eventKeyRows(events), at);
        plainInsert.runSync(
          sync,
          first.map((i) => rowOf(items[i]!)),
        );
        const probed: Probed[] = [];
        for (const row of probeRows(items, first)) {
          const [hit] = sync.all<Omit<Probed, 'i' | 't'>>(probeRowSql, row);
          if (hit && (hit.d || row.t > 0)) probed.push({ ...hit, i: row.i, t: row.t });
        }
        return { inserted: first, probed };
      });
    };
    let result: Awaited<ReturnType<typeof run>>;
    try {
      // Plain inserts first: they fail as a whole on any known key (a second click, a replay), and
      // only then does the batch take the ON CONFLICT … RETURNING path, whose per-row results cost more.
      result = direct() ?? (await run(false));
    } catch (err) {
      if (!isRawUniqueViolation(err)) throw err;
      result = await run(true);
    }
    const probed = new Map(result.probed.map((p) => [Number(p.i), p]));
    const folded: number[] = [];
    for (const i of result.inserted) {
      const p = probed.get(i);
      if (p && Number(p.d)) {
        // Answered before and already folded: a second answer; take this row back.
        out[i] = { status: 'duplicate' };
        folded.push(i);
      } else out[i] = p && Number(p.t) ? { status: 'recorded', answeredInRound: Number(p.n) } : { status: 'recorded' };
    }
    if (folded.length) {
      // Should a fold take one first, its QuizAnswer insert meets the original and counts nothing.
      await db.$executeRawUnsafe(
        deleteSql,
        JSON.stringify(folded.map((i) => ({ r: items[i]!.roundId, m: items[i]!.memberId, q: items[i]!.questionId }))),
      );
    }
    return out.map((o) => o!);
  }

  function probeRows(items: AnswerInput[], idx: number[]) {
    return idx.map((i) => {
      const a = items[i]!;
      return { i, r: a.roundId, m: a.memberId, q: a.questionId, t: a.countInRound ? 1 : 0 };
    });
  }
  async function probe(tx: Tx, items: AnswerInput[], idx: number[]) {
    return tx.$queryRawUnsafe<Probed[]>(probeSql, JSON.stringify(probeRows(items, idx)));
  }

  const batcher = createWriteBatcher<AnswerInput, SubmitResult>({
    maxBatch: deps.maxBatch ?? 2000,
    async write(batch) {
      try {
        return await appendBatch(batch);
      } catch (err) {
        // An outage reaches every submitter, whose path reports it to db-health (logged once there).
        if (!isDatabaseUnavailable(err)) log.error({ err, size: batch.length }, 'answer journal append failed');
        throw err;
      }
    },
  });

  // ---- fold -------------------------------------------------------------------------

  function decode(rows: JournalRow[]): AnswerInput[] {
    rows.sort((a, b) => Number(a.id) - Number(b.id));
    return rows.map((r): AnswerInput => {
      const d = JSON.parse(r.data) as Data;
      const sep = r.event ? r.event.indexOf(':') : -1;
      return {
        ...d,
        roundId: r.roundId,
        memberId: r.memberId,
        questionId: r.questionId,
        answeredAt: new Date(d.answeredAt),
        ...(r.event && sep > 0 ? { event: { platform: r.event.slice(0, sep), eventKey: r.event.slice(sep + 1) } } : {}),
      };
    });
  }
  // SQLite: one connection, so nothing was appended inside the fold's transaction; the rows read are those up to the last id.
  const deleteUpTo = `DELETE FROM "QuizJournal" WHERE "id" <= ?`;

  /** Claims up to `limit` rows in `tx`, folds them and deletes them; how many. */
  async function foldIn(tx: Tx, limit: number, wait: boolean, upTo = maxId(pg)): Promise<number> {
    const rows = await (pg
      ? tx.$queryRawUnsafe<JournalRow[]>(claimSql(wait), limit, upTo)
      : tx.$queryRawUnsafe<JournalRow[]>(claimSql(wait), upTo, limit));
    if (rows.length === 0) return 0;
    const answers = decode(rows);
    await runPlan(tx, deps.fold(answers));
    if (!pg) await tx.$executeRawUnsafe(deleteUpTo, Number(rows.at(-1)!.id));
    return rows.length;
  }

  /**
   * The same on SQLite without Prisma when no transaction is open: one synchronous transaction
   * of direct statements (SqlExec.transactionSync), holding the connection for its CPU time only.
   * Undefined when it cannot.
   */
  function foldDirect(limit: number, upTo: number): number | undefined {
    return directly((sync) => {
      const rows = sync.all<JournalRow>(claimSql(false), upTo, limit);
      if (rows.length === 0) return 0;
      runPlanSync(sync, deps.fold(decode(rows)));
      sync.run(deleteUpTo, Number(rows.at(-1)!.id));
      return rows.length;
    });
  }

  // Folds in this process run one after another (a timer's, a reader's settle).
  let chain: Promise<unknown> = Promise.resolve();
  function serial<T>(work: () => Promise<T>): Promise<T> {
    const next = chain.then(work, work);
    chain = next.catch(() => undefined);
    return next;
  }

  async function foldOwn(limit: number, wait: boolean, upTo?: number): Promise<number> {
    const started = performance.now();
    const n = foldDirect(limit, upTo ?? maxId(pg));
    if (n === undefined)
      return db.$transaction((tx) => foldIn(tx, limit, wait, upTo), { timeout: 60_000, maxWait: 30_000 });
    lastFoldMs = performance.now() - started;
    if (n >= DIRECT_FOLD_MIN)
      directRows = Math.max(DIRECT_FOLD_MIN, Math.min(FOLD_BATCH, Math.round((DIRECT_FOLD_MS * n) / lastFoldMs)));
    // Let the webhooks waiting behind this batch run before the next one.
    await new Promise((resolve) => setImmediate(resolve));
    return n;
  }

  /**
   * The last row committed so far (0: none). A reader needs the rows committed before it asked, not
   * those appended while it folds: under load the journal is never empty.
   */
  async function lastId(client: Tx | Db): Promise<number> {
    const r = await client.$queryRawUnsafe<{ id: number | bigint | null }[]>(
      `SELECT MAX("id") AS id FROM "QuizJournal"`,
    );
    return Number(r[0]?.id ?? 0);
  }
  const pending = async (client: Tx | Db) => (await lastId(client)) > 0;

  async function memberAnswers(client: Tx | Db, roundId: string, memberId: string): Promise<MemberAnswer[]> {
    const journalRows = `SELECT "data" FROM "QuizJournal" WHERE "roundId" = ${pg ? '$1' : '?'} AND "memberId" = ${pg ? '$2' : '?'}`;
    let folded: MemberAnswer[];
    let rows: { data: string }[];
    if (deps.sql && !pg && !isTx(client)) {
      // A completed day's read on the click path: two direct statements instead of Prisma's
      // (a read outside a transaction sees the same on SQLite's one connection).
      const raw = await deps.sql.query<{ position: number; correct: number; response: string; voided: number }>(
        `SELECT "position", "correct", "response", "voided" FROM "QuizAnswer" WHERE "roundId" = ? AND "memberId" = ?`,
        roundId,
        memberId,
      );
      folded = raw.map((a) => ({ ...a, correct: Boolean(a.correct), voided: Boolean(a.voided) }));
      rows = await deps.sql.query<{ data: string }>(journalRows, roundId, memberId);
    } else {
      folded = await client.quizAnswer.findMany({
        where: { roundId, memberId },
        select: { position: true, correct: true, response: true, voided: true },
      });
      rows = await client.$queryRawUnsafe<{ data: string }[]>(journalRows, roundId, memberId);
    }
    const seen = new Set(folded.map((a) => a.position));
    // A row both folded and still here is a refused second answer on its way out: the folded one counts.
    const unfolded = rows
      .map((r) => JSON.parse(r.data) as Data)
      .filter((d) => !seen.has(d.position))
      .map((d) => ({ position: d.position, correct: d.correct, response: JSON.stringify(d.response), voided: false }));
    return [...folded, ...unfolded];
  }

  async function settle(tx?: Tx | Db): Promise<void> {
    if (tx && isTx(tx)) {
      // Inside the caller's transaction: fold there (on SQLite a transaction of our own would wait for theirs).
      const upTo = await lastId(tx);
      if (upTo > 0) while ((await foldIn(tx, FOLD_BATCH, true, upTo)) > 0);
      return;
    }
    // Not waiting for queued appends: nobody was told those are recorded yet (and under load the
    // queue never drains). The caller's own answer, if any, was appended before it got its reply.
    const upTo = await lastId(db);
    if (upTo === 0) return;
    await serial(async () => {
      while ((await foldOwn(batchRows(), true, upTo)) > 0);
    });
  }

  let timer: NodeJS.Timeout | undefined;
  let ticking = false;
  let failing = false;
  async function tick(): Promise<void> {
    if (ticking) return;
    ticking = true;
    try {
      if (!(await pending(db))) return;
      await serial(async () => {
        // Batch after batch while there is a backlog; another instance's claimed rows are skipped.
        for (;;) {
          const limit = batchRows();
          if ((await foldOwn(limit, false)) < limit) break;
          // Direct folds hold the event loop: while a backlog lasts they take at most half of it.
          if (canDirect) await new Promise((resolve) => setTimeout(resolve, lastFoldMs));
        }
      });
      if (failing) log.info('answer journal folding again');
      failing = false;
    } catch (err) {
      // The rows stay in the journal and the next tick tries again: one line per run of failures
      // (an outage is logged once by the loops that watch the database, lib/db-health.ts).
      if (!failing && !isDatabaseUnavailable(err)) log.warn({ err }, 'answer journal fold failed; retried every tick');
      failing = true;
    } finally {
      ticking = false;
    }
  }

  return {
    append: (a) => batcher.submit(a),
    settle,
    memberAnswers,
    foldOnce: (limit = batchRows()) => serial(() => foldOwn(limit, false)),
    start(intervalMs = 1000) {
      if (timer) return;
      void tick();
      timer = setInterval(() => void tick(), intervalMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await batcher.flush();
      await chain;
    },
    flush: () => batcher.flush(),
  };
}
