import { z } from 'zod';
import type { Db, Provider, Tx } from '../../lib/db.ts';
import { isDatabaseUnavailable } from '../../lib/db-health.ts';
import type { Logger } from '../../lib/logger.ts';
import { insertEventKeys, keyOf } from '../../lib/inbound-dedupe.ts';
import { newId } from '../../lib/ids.ts';
import { jsonColumn } from '../../lib/json-column.ts';
import { yieldToLoop } from '../../lib/loop-yield.ts';
import { jsonInsert, sqlStamp } from '../../lib/sql-insert.ts';
import { createWriteBatcher } from '../../lib/write-batcher.ts';
import { periodKeys, periodRange } from './time.ts';

/**
 * Where answers are written. "Answer once" is the unique key
 * (round, question, member); scores are kept incrementally in QuizTally
 * (per week, month and year; per member and per unit) in the same
 * transaction as the answers, so a year board is a short index read.
 *
 * Writes are group-committed: answers that arrive while a write is in
 * flight are written together in one transaction with multi-row
 * INSERT ... ON CONFLICT statements (bench/leaderboard.ts measures it).
 * Each caller still learns whether *its* answer was the one recorded.
 */
export interface AnswerInput {
  orgId: string;
  roundId: string;
  questionId: string;
  position: number;
  memberId: string;
  unitId: string | null;
  attemptId?: string | null;
  response: string[];
  correct: boolean;
  points: number;
  elapsedMs: number;
  answeredAt: Date;
  /** The organisation's time zone, for the period keys. */
  timezone: string;
  /** Also tell how many answers the member now has in this round (read in the same transaction). */
  countInRound?: boolean;
  /**
   * The platform event that carried the answer: its dedupe row is written in
   * the same transaction, and an event seen before records nothing (a replay).
   */
  event?: { platform: string; eventKey: string };
  /**
   * Written in the answer's own transaction when it is recorded (a typed answer's
   * private reply): the answer and what it says commit together, so a crash or an
   * outage between two transactions cannot keep the answer and lose the reply.
   */
  onRecorded?: (tx: Tx) => Promise<unknown>;
}

/** QuizAnswer.response: what the member chose or wrote, as AnswerInput.response. */
export const answerResponseColumn = jsonColumn(z.array(z.string()), 'QuizAnswer.response');

export interface SubmitResult {
  /** duplicate: the member already answered; replayed: this very event was handled before. */
  status: 'recorded' | 'duplicate' | 'replayed';
  /** With countInRound: the member's answers in the round after this one was written. */
  answeredInRound?: number;
}

export interface AnswerStore {
  /** Group-committed write of one answer. */
  submit(answer: AnswerInput): Promise<SubmitResult>;
  /** Writes a batch in the caller's transaction (or a new one); true per answer that was recorded. */
  writeBatch(answers: AnswerInput[], tx?: Tx): Promise<boolean[]>;
  /** Rebuilds members' and units' tallies for the given periods from the answers (after a void). */
  recompute(
    tx: Tx,
    orgId: string,
    subjects: { scope: 'member' | 'unit'; id: string }[],
    periods: string[],
    tz: string,
  ): Promise<void>;
  /** Waits for queued answers to be written (shutdown, tests). */
  flush(): Promise<void>;
}

/**
 * Rows of a batch's upserts in key order. Two instances' batches on one
 * PostgreSQL touch the same hot rows (a unit's tallies, the rank buckets);
 * taking their row locks in one global order means they wait for each other
 * instead of deadlocking.
 */
/** Subjects per statement when tallies are recounted (an IN list far below SQLite's parameter cap). */
const RECOMPUTE_CHUNK = 500;

/** QuizTally's columns as the incremental upsert and the recount both write them. */
const TALLY_COLUMNS = [
  ['orgId', 'text'],
  ['period', 'text'],
  ['scope', 'text'],
  ['subjectId', 'text'],
  ['correct', 'integer'],
  ['answered', 'integer'],
  ['points', 'integer'],
  ['reachedAt', 'timestamp(3)'],
] as const;

function inKeyOrder<T>(byKey: Map<string, T>): T[] {
  return [...byKey.keys()].sort().map((k) => byKey.get(k)!);
}

const answerKeyOf = (a: AnswerInput) => `${a.roundId}|${a.memberId}|${a.questionId}`;

export function createAnswerStore(deps: { db: Db; provider: Provider; log: Logger; maxBatch?: number }): AnswerStore {
  const { db, provider } = deps;
  const maxBatch = deps.maxBatch ?? 2000;

  // Multi-row upserts, rows as one JSON parameter (lib/sql-insert.ts).
  const answerInsert = jsonInsert(provider, {
    table: 'QuizAnswer',
    columns: [
      ['id', 'text'],
      ['orgId', 'text'],
      ['roundId', 'text'],
      ['questionId', 'text'],
      ['position', 'integer'],
      ['memberId', 'text'],
      ['unitId', 'text'],
      ['attemptId', 'text'],
      ['response', 'text'],
      ['correct', 'boolean'],
      ['points', 'integer'],
      ['elapsedMs', 'integer'],
      ['answeredAt', 'timestamp(3)'],
      ['voided', 'boolean'],
    ],
    onConflict: 'ON CONFLICT ("roundId","memberId","questionId") DO NOTHING',
    returning: '"id"',
  });
  const tallyUpsert = jsonInsert(provider, {
    table: 'QuizTally',
    columns: TALLY_COLUMNS,
    onConflict: `ON CONFLICT ("orgId","period","scope","subjectId") DO UPDATE SET
             "correct" = "QuizTally"."correct" + excluded."correct",
             "answered" = "QuizTally"."answered" + excluded."answered",
             "points" = "QuizTally"."points" + excluded."points",
             "reachedAt" = CASE WHEN excluded."correct" > 0 THEN excluded."reachedAt" ELSE "QuizTally"."reachedAt" END`,
    returning: '"orgId","period","scope","subjectId","correct","answered"',
  });
  const bucketUpsert = jsonInsert(provider, {
    table: 'QuizRankBucket',
    columns: [
      ['orgId', 'text'],
      ['period', 'text'],
      ['scope', 'text'],
      ['correct', 'integer'],
      ['count', 'integer'],
    ],
    onConflict: `ON CONFLICT ("orgId","period","scope","correct") DO UPDATE SET "count" = "QuizRankBucket"."count" + excluded."count"`,
  });
  const mistakeUpsert = jsonInsert(provider, {
    table: 'QuizMistake',
    columns: [
      ['memberId', 'text'],
      ['questionId', 'text'],
      ['orgId', 'text'],
      ['wrongCount', 'integer'],
      ['lastWrongAt', 'timestamp(3)'],
    ],
    onConflict: `ON CONFLICT ("memberId","questionId") DO UPDATE SET
             "wrongCount" = "QuizMistake"."wrongCount" + excluded."wrongCount",
             "lastWrongAt" = excluded."lastWrongAt"`,
  });

  async function insertAnswers(tx: Tx, rows: (AnswerInput & { id: string })[]): Promise<Set<string>> {
    const sorted = [...rows].sort((a, b) => (answerKeyOf(a) < answerKeyOf(b) ? -1 : 1));
    const got = await answerInsert.run<{ id: string }>(
      tx,
      sorted.map((a) => ({
        id: a.id,
        orgId: a.orgId,
        roundId: a.roundId,
        questionId: a.questionId,
        position: a.position,
        memberId: a.memberId,
        unitId: a.unitId,
        attemptId: a.attemptId ?? null,
        response: answerResponseColumn.stringify(a.response),
        correct: a.correct,
        points: a.points,
        elapsedMs: a.elapsedMs,
        answeredAt: sqlStamp(a.answeredAt),
        voided: false,
      })),
    );
    return new Set(got.map((r) => r.id));
  }

  interface TallyDelta {
    orgId: string;
    period: string;
    scope: 'member' | 'unit';
    subjectId: string;
    correct: number;
    answered: number;
    points: number;
    reachedAt: Date;
  }

  async function applyTallies(tx: Tx, answers: AnswerInput[]): Promise<void> {
    // One row per key: PostgreSQL refuses to update a row twice in one statement.
    const deltas = new Map<string, TallyDelta>();
    for (const a of answers) {
      const subjects: ['member' | 'unit', string][] = [['member', a.memberId]];
      if (a.unitId) subjects.push(['unit', a.unitId]);
      for (const period of periodKeys(a.answeredAt, a.timezone)) {
        for (const [scope, subjectId] of subjects) {
          const key = `${a.orgId}|${period}|${scope}|${subjectId}`;
          let d = deltas.get(key);
          if (!d) {
            d = {
              orgId: a.orgId,
              period,
              scope,
              subjectId,
              correct: 0,
              answered: 0,
              points: 0,
              reachedAt: a.answeredAt,
            };
            deltas.set(key, d);
          }
          d.answered += 1;
          d.points += a.points;
          if (a.correct) {
            d.correct += 1;
            if (a.answeredAt > d.reachedAt || d.correct === 1) d.reachedAt = a.answeredAt;
          }
        }
      }
    }
    const rows = inKeyOrder(deltas);
    const buckets = new Map<string, { orgId: string; period: string; scope: string; correct: number; count: number }>();
    const moveBucket = (d: TallyDelta, correct: number, by: number) => {
      const key = `${d.orgId}|${d.period}|${d.scope}|${correct}`;
      const b = buckets.get(key) ?? { orgId: d.orgId, period: d.period, scope: d.scope, correct, count: 0 };
      b.count += by;
      buckets.set(key, b);
    };
    const after = await tallyUpsert.run<{
      orgId: string;
      period: string;
      scope: string;
      subjectId: string;
      correct: number;
      answered: number;
    }>(
      tx,
      rows.map((d) => ({ ...d, reachedAt: sqlStamp(d.reachedAt) })),
    );
    // Move each subject between rank buckets: a new row joins its bucket;
    // a row whose correct count went up leaves the old one for the new one.
    for (const r of after) {
      const d = deltas.get(`${r.orgId}|${r.period}|${r.scope}|${r.subjectId}`);
      if (!d) continue;
      const correct = Number(r.correct);
      if (Number(r.answered) === d.answered) moveBucket(d, correct, 1);
      else if (d.correct > 0) {
        moveBucket(d, correct - d.correct, -1);
        moveBucket(d, correct, 1);
      }
    }
    await applyBuckets(
      tx,
      inKeyOrder(buckets).filter((b) => b.count !== 0),
    );
  }

  async function applyBuckets(
    tx: Tx,
    rows: { orgId: string; period: string; scope: string; correct: number; count: number }[],
  ): Promise<void> {
    await bucketUpsert.run(tx, rows);
  }

  async function recordMistakes(tx: Tx, answers: AnswerInput[]): Promise<void> {
    const byKey = new Map<string, { a: AnswerInput; n: number }>();
    for (const a of answers) {
      if (a.correct) continue;
      const key = `${a.memberId}|${a.questionId}`;
      const e = byKey.get(key);
      if (e) {
        e.n++;
        if (a.answeredAt > e.a.answeredAt) e.a = a;
      } else byKey.set(key, { a, n: 1 });
    }
    const rows = inKeyOrder(byKey);
    await mistakeUpsert.run(
      tx,
      rows.map(({ a, n }) => ({
        memberId: a.memberId,
        questionId: a.questionId,
        orgId: a.orgId,
        wrongCount: n,
        lastWrongAt: sqlStamp(a.answeredAt),
      })),
    );
  }

  /** Dedupe rows for the answers' events, written with them; the keys that were new. */
  async function recordEvents(tx: Tx, answers: AnswerInput[]): Promise<Set<string>> {
    const events = inKeyOrder(new Map(answers.flatMap((a) => (a.event ? [[keyOf(a.event), a.event] as const] : []))));
    if (events.length === 0) return new Set();
    return insertEventKeys(tx, provider, events, answers[0]!.answeredAt);
  }

  async function writeIn(tx: Tx, answers: AnswerInput[]): Promise<boolean[]> {
    return (await writeOutcomes(tx, answers)).map((o) => o === 'recorded');
  }

  async function writeOutcomes(tx: Tx, answers: AnswerInput[]): Promise<SubmitResult['status'][]> {
    const freshEvents = await recordEvents(tx, answers);
    // The first of several answers with the same key in one batch wins, like it would one by one.
    const seen = new Set<string>();
    const rows = answers.map((a) => {
      // A replayed event (or the same event twice in this batch) records nothing.
      const replayed = a.event !== undefined && !freshEvents.delete(keyOf(a.event));
      const answerKey = answerKeyOf(a);
      const dup = replayed || seen.has(answerKey);
      if (!replayed) seen.add(answerKey);
      return { ...a, id: newId(), dup, replayed };
    });
    const inserted = await insertAnswers(
      tx,
      rows.filter((r) => !r.dup),
    );
    const recorded = rows.map((r) => inserted.has(r.id));
    const kept = answers.filter((_, i) => recorded[i]);
    if (kept.length > 0) {
      await applyTallies(tx, kept);
      await recordMistakes(tx, kept);
      for (const a of kept) await a.onRecorded?.(tx);
    }
    return rows.map((r, i) => (recorded[i] ? 'recorded' : r.replayed ? 'replayed' : 'duplicate'));
  }

  function writeBatch(answers: AnswerInput[], tx?: Tx): Promise<boolean[]> {
    if (answers.length === 0) return Promise.resolve([]);
    return tx ? writeIn(tx, answers) : db.$transaction((t) => writeIn(t, answers), { timeout: 60_000 });
  }

  // ---- group commit -------------------------------------------------------------
  /** Answers per (round, member) for the given pairs (deduplicated here), after this batch's inserts. */
  async function countInRounds(tx: Tx, answers: AnswerInput[]): Promise<Map<string, number>> {
    const pairs = [
      ...new Map(answers.map((a) => [`${a.roundId}|${a.memberId}`, { r: a.roundId, m: a.memberId }])).values(),
    ];
    const sql =
      provider === 'postgresql'
        ? `SELECT a."roundId" AS r, a."memberId" AS m, COUNT(*)::int AS n
             FROM json_to_recordset($1::json) AS j(r text, m text)
             JOIN "QuizAnswer" a ON a."roundId" = j.r AND a."memberId" = j.m
            GROUP BY a."roundId", a."memberId"`
        : `SELECT a."roundId" AS r, a."memberId" AS m, COUNT(*) AS n
             FROM json_each(?) j
             JOIN "QuizAnswer" a ON a."roundId" = j.value->>'r' AND a."memberId" = j.value->>'m'
            GROUP BY a."roundId", a."memberId"`;
    const rows = await tx.$queryRawUnsafe<{ r: string; m: string; n: number | bigint }[]>(sql, JSON.stringify(pairs));
    return new Map(rows.map((x) => [`${x.r}|${x.m}`, Number(x.n)]));
  }

  /**
   * Group commit on the shared batcher: each batch is one transaction, so the
   * database decides "answer once" (and the event's first sighting) before
   * anyone is answered; writeOutcomes takes the row locks in key order.
   */
  const batcher = createWriteBatcher<AnswerInput, SubmitResult>({
    maxBatch,
    async write(items) {
      try {
        const { outcomes, counts } = await db.$transaction(
          async (tx) => {
            const outcomes = await writeOutcomes(tx, items);
            const counted = items.filter((a, i) => a.countInRound && outcomes[i] === 'recorded');
            return { outcomes, counts: counted.length ? await countInRounds(tx, counted) : undefined };
          },
          { timeout: 60_000 },
        );
        return items.map((a, i) => {
          const status = outcomes[i]!;
          const n = status === 'recorded' ? counts?.get(`${a.roundId}|${a.memberId}`) : undefined;
          return { status, ...(n !== undefined ? { answeredInRound: n } : {}) };
        });
      } catch (err) {
        // An outage reaches every submitter, whose path reports it to db-health (logged once there).
        if (!isDatabaseUnavailable(err)) deps.log.error({ err, size: items.length }, 'answer batch failed');
        throw err;
      }
    },
  });

  /** Sets tallies to recounted values (recompute); the incremental tallyUpsert adds instead. */
  const tallySet = jsonInsert(provider, {
    table: 'QuizTally',
    columns: TALLY_COLUMNS,
    onConflict: `ON CONFLICT ("orgId","period","scope","subjectId") DO UPDATE SET
             "correct" = excluded."correct", "answered" = excluded."answered",
             "points" = excluded."points", "reachedAt" = excluded."reachedAt"`,
  });

  /**
   * Rebuilds the tallies of `subjects` in `periods` from their answers, and
   * moves their rank buckets. Set-based, 500 subjects a statement: a void in
   * a test of 5,000 people used to be six queries per person and period
   * (90,000 awaited queries holding the event loop, past the transaction's
   * timeout); now it is a few statements per 500.
   */
  async function recompute(
    tx: Tx,
    orgId: string,
    subjects: { scope: 'member' | 'unit'; id: string }[],
    periods: string[],
    tz: string,
  ): Promise<void> {
    for (const period of periods) {
      const { start, end } = periodRange(period, tz);
      for (const scope of ['member', 'unit'] as const) {
        const ids = [...new Set(subjects.filter((s) => s.scope === scope).map((s) => s.id))].sort();
        const by = scope === 'member' ? ('memberId' as const) : ('unitId' as const);
        for (let i = 0; i < ids.length; i += RECOMPUTE_CHUNK) {
          const part = ids.slice(i, i + RECOMPUTE_CHUNK);
          const where = { orgId, voided: false, answeredAt: { gte: start, lt: end }, [by]: { in: part } };
          // One after another: a transaction is one connection (pg deprecates overlapping queries on it).
          const all = await tx.quizAnswer.groupBy({
            by: [by],
            where,
            _count: { _all: true },
            _sum: { points: true },
          });
          const right = await tx.quizAnswer.groupBy({
            by: [by],
            where: { ...where, correct: true },
            _count: { _all: true },
            _max: { answeredAt: true },
          });
          const before = await tx.quizTally.findMany({
            where: { orgId, period, scope, subjectId: { in: part } },
            select: { subjectId: true, correct: true },
          });
          const allOf = new Map(all.map((r) => [r[by]!, r]));
          const rightOf = new Map(right.map((r) => [r[by]!, r]));
          const beforeOf = new Map(before.map((r) => [r.subjectId, r.correct]));
          const moves = new Map<number, number>();
          const move = (correct: number, count: number) => moves.set(correct, (moves.get(correct) ?? 0) + count);
          const gone: string[] = [];
          const rows: Record<string, unknown>[] = [];
          for (const id of part) {
            const a = allOf.get(id);
            const r = rightOf.get(id);
            const correct = r?._count._all ?? 0;
            const was = beforeOf.get(id);
            if (was !== undefined) move(was, -1);
            if (a) move(correct, 1);
            if (!a) {
              if (was !== undefined) gone.push(id);
              continue;
            }
            rows.push({
              orgId,
              period,
              scope,
              subjectId: id,
              correct,
              answered: a._count._all,
              points: a._sum.points ?? 0,
              reachedAt: sqlStamp(r?._max.answeredAt ?? start),
            });
          }
          await applyBuckets(
            tx,
            [...moves]
              .filter(([, count]) => count !== 0)
              .sort(([a], [b]) => a - b)
              .map(([correct, count]) => ({ orgId, period, scope, correct, count })),
          );
          if (gone.length) await tx.quizTally.deleteMany({ where: { orgId, period, scope, subjectId: { in: gone } } });
          await tallySet.run(tx, rows);
          // PostgreSQL: this transaction has its own connection, so let other requests run between
          // chunks. Not on SQLite: there they would run inside this open transaction.
          if (provider === 'postgresql') await yieldToLoop();
        }
      }
    }
  }

  return {
    submit: (answer) => batcher.submit(answer),
    writeBatch,
    recompute,
    flush: () => batcher.flush(),
  };
}
