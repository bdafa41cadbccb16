import { z } from 'zod';
import type { Db, Provider, SqlExec, Tx } from '../../lib/db.ts';
import type { Logger } from '../../lib/logger.ts';
import { insertEventKeys, keyOf } from '../../lib/inbound-dedupe.ts';
import { createOrderedIds, newId } from '../../lib/ids.ts';
import { jsonColumn } from '../../lib/json-column.ts';
import { jsonInsert, runPlan, sqlStamp, type JsonInsertSpec, type WritePlan } from '../../lib/sql-insert.ts';
import { createAnswerJournal, type MemberAnswer } from './answer-journal.ts';
import { periodKeys } from './time.ts';

/**
 * Where answers are written. "Answer once" is the unique key
 * (round, question, member); scores are kept incrementally in QuizTally
 * (per week, month and year; per member and per unit) in the same
 * transaction as the answers, so a year board is a short index read.
 *
 * A member's answer (submit) is appended to the answer journal, group-
 * committed, and acknowledged from there (answer-journal.ts); the journal's
 * folder writes it here in large batches with multi-row INSERT ... ON
 * CONFLICT statements, and readers settle the journal before they read.
 * writeBatch writes directly (tests, bench/leaderboard.ts).
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
  /**
   * One answer, appended to the journal (group-committed); resolves once it is
   * durable and the database has said whether it is the member's first.
   */
  submit(answer: AnswerInput): Promise<SubmitResult>;
  /** Writes a batch in the caller's transaction (or a new one); true per answer that was recorded. */
  writeBatch(answers: AnswerInput[], tx?: Tx): Promise<boolean[]>;
  /**
   * Folds the journal so that answers, tallies, rank buckets and mistakes hold
   * every acknowledged answer: every reader of those calls it first. In a
   * transaction, pass it (the fold then runs inside it).
   */
  settle(tx?: Tx | Db): Promise<void>;
  /** One member's answers in one round, folded or not (AnswerJournal.memberAnswers). */
  memberAnswers(client: Tx | Db, roundId: string, memberId: string): Promise<MemberAnswer[]>;
  /** Starts the periodic fold (and folds what a crash left behind). */
  start(intervalMs?: number): void;
  /** Stops the periodic fold after queued appends are written. */
  stop(): Promise<void>;
  /** Waits for queued answers to be appended (shutdown, tests). */
  flush(): Promise<void>;
}

/** QuizTally's columns as the incremental upsert and a void's subtraction (answer-void.ts) write them. */
export const TALLY_COLUMNS = [
  ['orgId', 'text'],
  ['period', 'text'],
  ['scope', 'text'],
  ['subjectId', 'text'],
  ['correct', 'integer'],
  ['answered', 'integer'],
  ['points', 'integer'],
  ['reachedAt', 'timestamp(3)'],
] as const;

/** Adds `count` members to a rank bucket (negative to take them out): the fold and the void share it. */
export const BUCKET_ADD = {
  table: 'QuizRankBucket',
  columns: [
    ['orgId', 'text'],
    ['period', 'text'],
    ['scope', 'text'],
    ['correct', 'integer'],
    ['count', 'integer'],
  ],
  onConflict: `ON CONFLICT ("orgId","period","scope","correct") DO UPDATE SET "count" = "QuizRankBucket"."count" + excluded."count"`,
} as const satisfies JsonInsertSpec;

/**
 * Rows of a batch's upserts in key order. Two instances' batches on one
 * PostgreSQL touch the same hot rows (a unit's tallies, the rank buckets);
 * taking their row locks in one global order means they wait for each other
 * instead of deadlocking.
 */
function inKeyOrder<T>(byKey: Map<string, T>): T[] {
  return [...byKey.keys()].sort().map((k) => byKey.get(k)!);
}

const answerKeyOf = (a: AnswerInput) => `${a.roundId}|${a.memberId}|${a.questionId}`;

export function createAnswerStore(deps: {
  db: Db;
  provider: Provider;
  log: Logger;
  maxBatch?: number;
  /** Direct statements on SQLite for the click path (lib/db.ts). */
  sql?: SqlExec;
}): AnswerStore {
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
  const bucketUpsert = jsonInsert(provider, BUCKET_ADD);
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

  /** Inserts the answers not yet in QuizAnswer; returns the ids of those inserted. */
  function* insertAnswers(rows: (AnswerInput & { id: string })[]): WritePlan<Set<string>> {
    const sorted = [...rows].sort((a, b) => (answerKeyOf(a) < answerKeyOf(b) ? -1 : 1));
    const got = (yield {
      insert: answerInsert,
      rows: sorted.map((a) => ({
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
    }) as { id: string }[];
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

  /** Tallies, rank buckets and mistakes for answers just recorded. */
  function* countAnswers(answers: AnswerInput[]): WritePlan<void> {
    if (answers.length === 0) return;
    yield* applyTallies(answers);
    yield* recordMistakes(answers);
  }

  function* applyTallies(answers: AnswerInput[]): WritePlan<void> {
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
    const after = (yield {
      insert: tallyUpsert,
      rows: rows.map((d) => ({ ...d, reachedAt: sqlStamp(d.reachedAt) })),
    }) as { orgId: string; period: string; scope: string; subjectId: string; correct: number; answered: number }[];
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
    yield { insert: bucketUpsert, rows: inKeyOrder(buckets).filter((b) => b.count !== 0) };
  }

  function* recordMistakes(answers: AnswerInput[]): WritePlan<void> {
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
    yield {
      insert: mistakeUpsert,
      rows: inKeyOrder(byKey).map(({ a, n }) => ({
        memberId: a.memberId,
        questionId: a.questionId,
        orgId: a.orgId,
        wrongCount: n,
        lastWrongAt: sqlStamp(a.answeredAt),
      })),
    };
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
    const inserted = await runPlan(tx, insertAnswers(rows.filter((r) => !r.dup)));
    const recorded = rows.map((r) => inserted.has(r.id));
    const kept = answers.filter((_, i) => recorded[i]);
    await runPlan(tx, countAnswers(kept));
    for (const a of kept) await a.onRecorded?.(tx);
    return rows.map((r, i) => (recorded[i] ? 'recorded' : r.replayed ? 'replayed' : 'duplicate'));
  }

  function writeBatch(answers: AnswerInput[], tx?: Tx): Promise<boolean[]> {
    if (answers.length === 0) return Promise.resolve([]);
    return tx ? writeIn(tx, answers) : db.$transaction((t) => writeIn(t, answers), { timeout: 60_000 });
  }

  // ---- the journal ---------------------------------------------------------------
  /**
   * Folded answers' dedupe rows, for journal rows an earlier version appended with their click
   * (the append now writes it: answer-journal.ts); a click seen before is told apart from a second answer.
   */
  const eventInsert = jsonInsert<{ p: string; k: string; t: string }>(provider, {
    table: 'InboundEvent',
    columns: [
      ['platform', 'text', 'p'],
      ['eventKey', 'text', 'k'],
      ['receivedAt', 'timestamp(3)', 't'],
    ],
    onConflict: 'ON CONFLICT DO NOTHING',
  });

  /**
   * The fold: journal rows into answers, tallies, buckets, mistakes and their
   * clicks' dedupe rows. An answer whose key is already in QuizAnswer (a
   * second click appended while the first was being folded) counts nothing.
   */
  // Folded answers are written hundreds or thousands at a time: ordered ids keep their primary-key inserts at the index's edge.
  const foldId = createOrderedIds();
  function* foldAnswers(answers: AnswerInput[]): WritePlan<boolean[]> {
    // Kept 8 h from when the click came (scheduler/cleanup.ts), not from the fold.
    const events = inKeyOrder(
      new Map(
        answers.flatMap((a) =>
          a.event
            ? [[keyOf(a.event), { p: a.event.platform, k: a.event.eventKey, t: sqlStamp(a.answeredAt) }] as const]
            : [],
        ),
      ),
    );
    yield { insert: eventInsert, rows: events };
    const rows = answers.map((a) => ({ ...a, id: foldId() }));
    const inserted = yield* insertAnswers(rows);
    const recorded = rows.map((r) => inserted.has(r.id));
    yield* countAnswers(answers.filter((_, i) => recorded[i]));
    return recorded;
  }

  const journal = createAnswerJournal({ db, provider, log: deps.log, fold: foldAnswers, maxBatch, sql: deps.sql });

  return {
    submit: (answer) => journal.append(answer),
    writeBatch,
    settle: (tx) => journal.settle(tx),
    memberAnswers: (client, roundId, memberId) => journal.memberAnswers(client, roundId, memberId),
    start: (intervalMs) => journal.start(intervalMs),
    stop: () => journal.stop(),
    flush: () => journal.flush(),
  };
}
