import type { Provider, Tx } from '../../lib/db.ts';
import { jsonInsert, sqlStamp } from '../../lib/sql-insert.ts';
import { BUCKET_ADD, TALLY_COLUMNS } from './answer-store.ts';
import { periodKeys, periodRange } from './time.ts';

/**
 * Takes a voided question's answers out of the scores, a chunk at a time.
 *
 * Each chunk is one short transaction: it marks up to `limit` of the
 * question's still-counting answers voided and subtracts exactly those
 * answers from their members' and units' tallies, moving the rank buckets.
 * A chunk is whole or absent, and what is left is always "the void
 * question's answers not yet voided", so a void cut short (a crash, a
 * restart) is finished by running the chunks again (`finishVoids`).
 *
 * Why subtract instead of recounting: on SQLite a transaction must not
 * yield (docs/decisions/event-loop.md), so the 5,000-taker void that
 * recounted every period in one transaction held the loop about a second.
 * Subtracting a chunk's answers touches only those answers' tally rows, and
 * stays exact while other answers arrive between chunks (the incremental
 * tally upsert adds; this subtracts). Only the "reached at" tie-breaker is
 * not additive: it is recounted for the rows whose latest correct answer
 * was voided.
 */
export interface VoidChunk {
  /** Members whose answers this chunk voided; empty when none were left. */
  members: string[];
}

export interface AnswerVoider {
  voidChunk(
    tx: Tx,
    at: { orgId: string; roundId: string; questionId: string },
    tz: string,
    limit?: number,
  ): Promise<VoidChunk>;
}

/**
 * Answers per chunk. Each answer touches six tally rows (three periods, member
 * and unit); 250 answers' statements hold the loop about 100 ms on SQLite on a
 * busy 2-core machine, half the 200 ms target.
 */
export const VOID_CHUNK = 250;

interface Removed {
  memberId: string;
  unitId: string | null;
  correct: boolean | number;
  points: number | bigint;
  answeredAt: Date | string;
}

interface Delta {
  period: string;
  scope: 'member' | 'unit';
  subjectId: string;
  correct: number;
  answered: number;
  points: number;
  /** The latest voided correct answer of this row, if any. */
  lastCorrectAt: number | null;
}

interface TallyRow {
  period: string;
  scope: string;
  subjectId: string;
  correct: number | bigint;
  answered: number | bigint;
  points: number | bigint;
  reachedAt: Date | string;
}

export function createAnswerVoider(deps: { provider: Provider }): AnswerVoider {
  const { provider } = deps;
  const pg = provider === 'postgresql';
  // UPDATE ... WHERE voided = false RETURNING: only the rows this transaction flipped are
  // subtracted, even when two instances finish the same void at once on PostgreSQL.
  const flipSql = `UPDATE "QuizAnswer" SET "voided" = true
      WHERE "id" IN (SELECT "id" FROM "QuizAnswer"
                      WHERE "roundId" = ${pg ? '$1' : '?'} AND "questionId" = ${pg ? '$2' : '?'} AND "voided" = false
                      LIMIT ${pg ? '$3' : '?'})
        AND "voided" = false
      RETURNING "memberId", "unitId", "correct", "points", "answeredAt"`;
  // Negative deltas through the same upsert shape as answers' (rows in key order: PostgreSQL
  // takes the row locks in the order an answer batch does). The rows exist; reachedAt is kept.
  const tallySubtract = jsonInsert(provider, {
    table: 'QuizTally',
    columns: TALLY_COLUMNS,
    onConflict: `ON CONFLICT ("orgId","period","scope","subjectId") DO UPDATE SET
             "correct" = "QuizTally"."correct" + excluded."correct",
             "answered" = "QuizTally"."answered" + excluded."answered",
             "points" = "QuizTally"."points" + excluded."points"`,
    returning: '"period","scope","subjectId","correct","answered","points","reachedAt"',
  });
  const tallySet = jsonInsert(provider, {
    table: 'QuizTally',
    columns: TALLY_COLUMNS,
    onConflict: `ON CONFLICT ("orgId","period","scope","subjectId") DO UPDATE SET
             "correct" = excluded."correct", "answered" = excluded."answered",
             "points" = excluded."points", "reachedAt" = excluded."reachedAt"`,
  });
  const bucketMove = jsonInsert(provider, BUCKET_ADD);

  /** The latest correct, counting answer per subject in a period: the recount of reachedAt. */
  async function latestCorrect(
    tx: Tx,
    orgId: string,
    period: string,
    scope: 'member' | 'unit',
    ids: string[],
    tz: string,
  ): Promise<Map<string, Date>> {
    const { start, end } = periodRange(period, tz);
    const by = scope === 'member' ? ('memberId' as const) : ('unitId' as const);
    const rows = await tx.quizAnswer.groupBy({
      by: [by],
      where: { orgId, voided: false, correct: true, answeredAt: { gte: start, lt: end }, [by]: { in: ids } },
      _max: { answeredAt: true },
    });
    return new Map(rows.flatMap((r) => (r[by] && r._max.answeredAt ? [[r[by]!, r._max.answeredAt] as const] : [])));
  }

  async function voidChunk(
    tx: Tx,
    at: { orgId: string; roundId: string; questionId: string },
    tz: string,
    limit = VOID_CHUNK,
  ): Promise<VoidChunk> {
    const { orgId } = at;
    const removed = await tx.$queryRawUnsafe<Removed[]>(flipSql, at.roundId, at.questionId, limit);
    if (removed.length === 0) return { members: [] };

    const deltas = new Map<string, Delta>();
    for (const a of removed) {
      const when = new Date(a.answeredAt);
      const correct = a.correct === true || Number(a.correct) === 1;
      const subjects: ['member' | 'unit', string][] = [['member', a.memberId]];
      if (a.unitId) subjects.push(['unit', a.unitId]);
      for (const period of periodKeys(when, tz)) {
        for (const [scope, subjectId] of subjects) {
          const key = `${orgId}|${period}|${scope}|${subjectId}`;
          let d = deltas.get(key);
          if (!d) {
            d = { period, scope, subjectId, correct: 0, answered: 0, points: 0, lastCorrectAt: null };
            deltas.set(key, d);
          }
          d.answered += 1;
          d.points += Number(a.points);
          if (correct) {
            d.correct += 1;
            d.lastCorrectAt = Math.max(d.lastCorrectAt ?? 0, when.getTime());
          }
        }
      }
    }
    // periodRange works through the time zone's rules: once per period, not per row.
    const starts = new Map<string, Date>();
    const startOf = (period: string) => {
      let s = starts.get(period);
      if (!s) starts.set(period, (s = periodRange(period, tz).start));
      return s;
    };
    const keys = [...deltas.keys()].sort();
    const after = await tallySubtract.run<TallyRow>(
      tx,
      keys.map((k) => {
        const d = deltas.get(k)!;
        return {
          orgId,
          period: d.period,
          scope: d.scope,
          subjectId: d.subjectId,
          correct: -d.correct,
          answered: -d.answered,
          points: -d.points,
          reachedAt: sqlStamp(startOf(d.period)),
        };
      }),
    );

    const moves = new Map<string, { period: string; scope: string; correct: number; count: number }>();
    const move = (period: string, scope: string, correct: number, by: number) => {
      // The answer store's key order for buckets (PostgreSQL row locks in one order).
      const key = `${orgId}|${period}|${scope}|${correct}`;
      const m = moves.get(key) ?? { period, scope, correct, count: 0 };
      m.count += by;
      moves.set(key, m);
    };
    const gone = new Map<string, { period: string; scope: string; ids: string[] }>();
    const recount = new Map<string, { period: string; scope: 'member' | 'unit'; rows: TallyRow[] }>();
    const reset: TallyRow[] = [];
    for (const r of after) {
      const d = deltas.get(`${orgId}|${r.period}|${r.scope}|${r.subjectId}`);
      if (!d) continue;
      const correct = Number(r.correct);
      const answered = Number(r.answered);
      const was = correct + d.correct;
      if (answered <= 0) {
        // Nothing left to count: the row goes, and leaves its bucket. (Below zero, the row
        // was missing and this statement inserted it: nothing to leave.)
        if (answered === 0) move(d.period, d.scope, was, -1);
        const g = gone.get(`${d.period}|${d.scope}`) ?? { period: d.period, scope: d.scope, ids: [] };
        g.ids.push(d.subjectId);
        gone.set(`${d.period}|${d.scope}`, g);
        continue;
      }
      if (d.correct === 0) continue;
      move(d.period, d.scope, was, -1);
      move(d.period, d.scope, correct, 1);
      // As a recount sets it: the latest correct answer, or the period's start without one.
      if (correct === 0) reset.push({ ...r, reachedAt: startOf(d.period) });
      else if (d.lastCorrectAt !== null && d.lastCorrectAt >= new Date(r.reachedAt).getTime()) {
        const g = recount.get(`${d.period}|${d.scope}`) ?? { period: d.period, scope: d.scope, rows: [] };
        g.rows.push(r);
        recount.set(`${d.period}|${d.scope}`, g);
      }
    }
    for (const { period, scope, rows } of recount.values()) {
      const latest = await latestCorrect(
        tx,
        orgId,
        period,
        scope,
        rows.map((r) => r.subjectId),
        tz,
      );
      for (const r of rows) reset.push({ ...r, reachedAt: latest.get(r.subjectId) ?? startOf(period) });
    }
    if (reset.length > 0) {
      await tallySet.run(
        tx,
        reset
          .map((r) => ({
            orgId,
            period: r.period,
            scope: r.scope,
            subjectId: r.subjectId,
            correct: Number(r.correct),
            answered: Number(r.answered),
            points: Number(r.points),
            reachedAt: sqlStamp(new Date(r.reachedAt)),
          }))
          .sort((a, b) => (`${a.period}|${a.scope}|${a.subjectId}` < `${b.period}|${b.scope}|${b.subjectId}` ? -1 : 1)),
      );
    }
    await bucketMove.run(
      tx,
      [...moves.keys()]
        .sort()
        .map((k) => moves.get(k)!)
        .filter((m) => m.count !== 0)
        .map((m) => ({ orgId, ...m })),
    );
    for (const { period, scope, ids } of gone.values())
      await tx.quizTally.deleteMany({ where: { orgId, period, scope, subjectId: { in: ids } } });
    return { members: [...new Set(removed.map((a) => a.memberId))] };
  }

  return { voidChunk };
}
