import type { Db } from '../../lib/db.ts';
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
  ttlMs?: number;
  /** Milliseconds for ages; real time, not the business clock (staleness is about the database). */
  now?: () => number;
  maxRounds?: number;
}): RoundCache {
  const { db } = deps;
  const ttlMs = deps.ttlMs ?? 1_000;
  const now = deps.now ?? Date.now;
  const maxRounds = deps.maxRounds ?? 500;
  const entries = new Map<string, { at: number; snapshot: Promise<RoundSnapshot | undefined> }>();

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
    get(roundId, opts) {
      const hit = entries.get(roundId);
      if (hit && !opts?.fresh && now() - hit.at < ttlMs) return hit.snapshot;
      // Concurrent clicks on a cold round share one load (single flight).
      const snapshot = load(roundId);
      if (entries.size >= maxRounds && !hit) entries.delete(entries.keys().next().value as string);
      entries.set(roundId, { at: now(), snapshot });
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
