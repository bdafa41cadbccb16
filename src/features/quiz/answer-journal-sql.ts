/**
 * The answer journal's statements (answer-journal.ts), per database. Each
 * batch arrives as one JSON parameter: a group commit's rows cost one bound
 * value.
 *
 * PostgreSQL plans `json_to_recordset` at 100 rows whatever it holds. Against
 * that estimate it turned correlated EXISTS probes into hashed subplans, which
 * read the whole QuizAnswer table once per group commit
 * (bench:province on a fresh database: 6,300 rows read per click, at 7,000
 * answers). A LATERAL subquery with LIMIT 1 is re-run per row through the
 * index, however many rows the planner expects; both tables grow by every
 * click, so a full read only gets dearer.
 */
export function journalSql(pg: boolean) {
  /**
   * For the rows just appended: which meet an answer already folded (d: a
   * duplicate), and the member's answers in the round where asked (t = 1),
   * over both tables. (Replays are refused before, by the click's dedupe row.)
   * Only those rows come back: Prisma's per-row result handling is the dear part.
   */
  const probeSql = pg
    ? `SELECT j.i, j.t, d.hit IS NOT NULL AS d,
         CASE WHEN j.t > 0 THEN
           (SELECT COUNT(*) FROM "QuizAnswer" a WHERE a."roundId" = j.r AND a."memberId" = j.m)
           + (SELECT COUNT(*) FROM "QuizJournal" x WHERE x."roundId" = j.r AND x."memberId" = j.m)
         ELSE 0 END::int AS n
       FROM json_to_recordset($1::json) AS j(i int, r text, m text, q text, t int)
       LEFT JOIN LATERAL (SELECT 1 AS hit FROM "QuizAnswer" a
                           WHERE a."roundId" = j.r AND a."memberId" = j.m AND a."questionId" = j.q LIMIT 1) d ON true
       WHERE d.hit IS NOT NULL OR j.t > 0`
    : `SELECT * FROM (
         SELECT j.value->>'i' AS i, j.value->>'t' AS t,
           EXISTS (SELECT 1 FROM "QuizAnswer" a WHERE a."roundId" = j.value->>'r' AND a."memberId" = j.value->>'m'
                   AND a."questionId" = j.value->>'q') AS d,
           CASE WHEN j.value->>'t' > 0 THEN
             (SELECT COUNT(*) FROM "QuizAnswer" a WHERE a."roundId" = j.value->>'r' AND a."memberId" = j.value->>'m')
             + (SELECT COUNT(*) FROM "QuizJournal" x WHERE x."roundId" = j.value->>'r' AND x."memberId" = j.value->>'m')
           ELSE 0 END AS n
         FROM json_each(?) j) s
       WHERE s.d OR s.t > 0`;

  /**
   * The same probe for one row with named parameters, SQLite only: what the
   * direct append runs per row inside its synchronous transaction, where a
   * prepared statement's call is cheaper than json_each re-reading each row's
   * JSON for every column (lib/sql-insert.ts rowInsertSql).
   */
  const probeRowSql = `SELECT
       EXISTS (SELECT 1 FROM "QuizAnswer" a WHERE a."roundId" = @r AND a."memberId" = @m AND a."questionId" = @q) AS d,
       CASE WHEN @t > 0 THEN
         (SELECT COUNT(*) FROM "QuizAnswer" a WHERE a."roundId" = @r AND a."memberId" = @m)
         + (SELECT COUNT(*) FROM "QuizJournal" x WHERE x."roundId" = @r AND x."memberId" = @m)
       ELSE 0 END AS n`;

  const deleteSql = pg
    ? `DELETE FROM "QuizJournal" x USING json_to_recordset($1::json) AS j(r text, m text, q text)
        WHERE x."roundId" = j.r AND x."memberId" = j.m AND x."questionId" = j.q`
    : `DELETE FROM "QuizJournal" WHERE EXISTS (SELECT 1 FROM json_each(?) j WHERE "roundId" = j.value->>'r'
        AND "memberId" = j.value->>'m' AND "questionId" = j.value->>'q')`;

  /** A fold's claim: up to $1 rows with ids up to $2, oldest first (PostgreSQL: deleted as claimed). */
  const claimSql = (wait: boolean) =>
    pg
      ? `DELETE FROM "QuizJournal" WHERE "id" IN (
           SELECT "id" FROM "QuizJournal" WHERE "id" <= $2 ORDER BY "id" LIMIT $1 FOR UPDATE${wait ? '' : ' SKIP LOCKED'})
         RETURNING "id","roundId","memberId","questionId","event","data"`
      : `SELECT "id","roundId","memberId","questionId","event","data" FROM "QuizJournal" WHERE "id" <= ? ORDER BY "id" LIMIT ?`;

  return { probeSql, probeRowSql, deleteSql, claimSql };
}
