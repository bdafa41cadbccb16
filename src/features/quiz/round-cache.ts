import type { Db, Provider, SqlExec } from '../../lib/db.ts';
import { loadQuestions, type QuizQuestion } from './questions.ts';

/**
 * A short-lived snapshot of a round, its questions and their bank rows, for
 * the answer hot path: a daily round is clicked by every member of a branch
 * within minutes, and four reads per click were most of the click's cost.
 *
 * The snapshot is only trusted to *accept* an answer. Anything that would
 * refuse one (question not open yet, round closed, question voided) is read
 * again from the database first, so a stale snapshot can delay a refusal by
 * at most the time-to-live but never refuse an answer that should count.
 * The deadlines it holds do not change once set, so "too late" is decided
 * on them exactly. Changes made in this process (a void) forget the round
 * at once; another instance's changes are seen within the time-to-live.
 */
/** A quiz round row as Prisma returns it. */
export type RoundRow = NonNullable<Awaited<ReturnType<Db['quizRound']['findUnique']>>>;

export interface RoundSnapshot {
  round: RoundRow;
  /** Round questions by position, with their bank question. */
  positions: Map<
    number,
    { status: string; questionId: string; openedAt: Date | null; deadline: Date | null; question?: QuizQuestion }
  >;
  /** Number of questions in the round (a member who answered this many is done). */
  total: number;
}

export interface RoundCache {
  /** The snapshot, from memory when younger than the time-to-live. */
  get(roundId: string, opts?: { fresh?: boolean }): Promise<RoundSnapshot | undefined>;
  forget(roundId: string): void;
}

export function createRoundCache(deps: {
  db: Db;
  /**
   * Raw statements: an expired snapshot is first compared, row for row, with
   * what the database holds now and kept when nothing changed, instead of
   * three Prisma reads (~0.5 ms of CPU). With 300 daily rounds clicked by a
   * province the 1 s snapshot expired between most clicks (docs/decisions.md,
   * "The province click path"). SQLite: three prepared statements, tens of µs.
   * PostgreSQL: one statement that returns the three as JSON text, one round
   * trip instead of a reload's three.
   */
  sql?: SqlExec;
  provider?: Provider;
  ttlMs?: number;
  /** Milliseconds for ages; real time, not the business clock (staleness is about the database). */
  now?: () => number;
  maxRounds?: number;
}): RoundCache {
  const { db } = deps;
  const ttlMs = deps.ttlMs ?? 1_000;
  const now = deps.now ?? Date.now;
  const maxRounds = deps.maxRounds ?? 500;
  const entries = new Map<
    string,
    { at: number; snapshot: Promise<RoundSnapshot | undefined>; rows?: Promise<string | undefined> }
  >();
  const sql = deps.provider ? deps.sql : undefined;

  /** Every column of the round, its questions and their bank rows, as text to compare. */
  async function rowsOf(roundId: string): Promise<string | undefined> {
    if (!sql) return undefined;
    if (deps.provider === 'postgresql') {
      const [row] = await sql.query<{ v: string | null }>(PG_ROWS, roundId);
      return row?.v ?? undefined;
    }
    const parts = await Promise.all([
      sql.query('SELECT * FROM "QuizRound" WHERE "id" = ?', roundId),
      sql.query('SELECT * FROM "QuizRoundQuestion" WHERE "roundId" = ? ORDER BY "position"', roundId),
      sql.query(
        'SELECT q.* FROM "QuizRoundQuestion" rq JOIN "Question" q ON q."id" = rq."questionId" WHERE rq."roundId" = ? ORDER BY rq."position"',
        roundId,
      ),
    ]);
    return JSON.stringify(parts, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  }

  async function load(roundId: string): Promise<RoundSnapshot | undefined> {
    const round = await db.quizRound.findUnique({ where: { id: roundId } });
    if (!round) return undefined;
    const rqs = await db.quizRoundQuestion.findMany({ where: { roundId } });
    const questions = await loadQuestions(
      db,
      rqs.map((r) => r.questionId),
    );
    return {
      round,
      total: rqs.length,
      positions: new Map(
        rqs.map((r) => [
          r.position,
          {
            status: r.status,
            questionId: r.questionId,
            openedAt: r.openedAt,
            deadline: r.deadline,
            question: questions.get(r.questionId),
          },
        ]),
      ),
    };
  }

  return {
    async get(roundId, opts) {
      const hit = entries.get(roundId);
      if (hit && !opts?.fresh && now() - hit.at < ttlMs) return hit.snapshot;
      // Read before the snapshot is loaded: a change in between shows as a difference next time.
      const rows = sql ? rowsOf(roundId).catch(() => undefined) : undefined;
      if (hit?.rows && rows && !opts?.fresh) {
        const [before, current] = await Promise.all([hit.rows, rows]);
        if (before !== undefined && before === current && entries.get(roundId) === hit) {
          hit.at = now();
          return hit.snapshot;
        }
      }
      const again = entries.get(roundId);
      if (again && again !== hit && !opts?.fresh && now() - again.at < ttlMs) return again.snapshot;
      // Concurrent clicks on a cold round share one load (single flight). The load starts after the
      // comparison rows were read (PostgreSQL runs the two on different connections otherwise), so
      // a change between them shows as a difference next time, never as a stale match.
      const snapshot = rows ? rows.then(() => load(roundId)) : load(roundId);
      if (entries.size >= maxRounds && !entries.has(roundId)) entries.delete(entries.keys().next().value as string);
      entries.set(roundId, { at: now(), snapshot, ...(rows ? { rows } : {}) });
      snapshot.catch(() => {
        if (entries.get(roundId)?.snapshot === snapshot) entries.delete(roundId);
      });
      return snapshot;
    },
    forget(roundId) {
      entries.delete(roundId);
    },
  };
}

/** The round, its questions and their bank rows as one text (NULL when the round is gone). */
const PG_ROWS = `SELECT (SELECT row_to_json(r)::text FROM "QuizRound" r WHERE r."id" = $1)
  || COALESCE((SELECT json_agg(rq ORDER BY rq."position")::text FROM "QuizRoundQuestion" rq WHERE rq."roundId" = $1), '[]')
  || COALESCE((SELECT json_agg(q ORDER BY rq."position")::text
                 FROM "QuizRoundQuestion" rq JOIN "Question" q ON q."id" = rq."questionId"
                WHERE rq."roundId" = $1), '[]') AS v`;
