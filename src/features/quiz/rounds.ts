import { z } from 'zod';
import { UserError } from '../../bot/errors.ts';
import { isUniqueViolation, type Db, type Tx } from '../../lib/db.ts';
import { newId } from '../../lib/ids.ts';
import { takeNumbers } from '../../lib/org-counter.ts';
import { candidateIds, shuffle } from './questions.ts';

/**
 * Rounds, whatever their kind: the organisation's next round number, picking
 * the questions, creating the round with its questions, and the settings each
 * kind stores (checked with zod before they are written).
 */
export const roundSettings = {
  contest: z.object({ seconds: z.number().int().min(10).max(120) }),
  test: z.object({ minutes: z.number().int().min(1).max(240), makeupHours: z.number().int().min(0) }),
  daily: z.object({ private: z.boolean() }),
};
export type RoundKind = 'contest' | 'test' | 'makeup' | 'daily';
export type TestSettings = z.infer<typeof roundSettings.test>;

/** The settings of a new round, as stored; a make-up keeps its test's settings. */
export function settingsOf<K extends keyof typeof roundSettings>(
  kind: K,
  value: z.input<(typeof roundSettings)[K]>,
): string {
  return JSON.stringify(roundSettings[kind].parse(value));
}

/** The active questions a new round may use, refused politely when there are none or too few. */
export async function availableQuestions(
  db: Db | Tx,
  orgId: string,
  tag: string | null,
  want: number,
): Promise<string[]> {
  const ids = await candidateIds(db, orgId, tag);
  if (ids.length === 0) throw new UserError(tag ? 'quiz.pick.empty_tag' : 'quiz.pick.empty', { tag: tag ?? '' });
  if (ids.length < want)
    throw new UserError(tag ? 'quiz.pick.not_enough_tag' : 'quiz.pick.not_enough', {
      have: ids.length,
      want,
      tag: tag ?? '',
    });
  return ids;
}

/** `count` questions at random from the available ones. */
export async function pickQuestions(db: Db | Tx, orgId: string, tag: string | null, count: number): Promise<string[]> {
  return shuffle(await availableQuestions(db, orgId, tag, count)).slice(0, count);
}

/**
 * The next short round number of an organisation ("第N场"), inside `tx`. A counter row, not
 * "the highest round plus one": rounds opened at the same moment (a province's groups' daily
 * practice at 09:00, fired by several instances) queue on the row's lock instead of taking the
 * same number and failing on the unique key (bench:province). The counter starts from the
 * highest existing round; two first uses racing both insert it, and the second insert does nothing.
 */
export async function nextSeq(tx: Tx, orgId: string): Promise<number> {
  const counter = await tx.orgCounter.findUnique({ where: { orgId_name: { orgId, name: ROUND_COUNTER } } });
  if (!counter) {
    const last = (await tx.quizRound.aggregate({ where: { orgId }, _max: { seq: true } }))._max.seq ?? 0;
    // First use, possibly by several instances at once: whoever inserts second does nothing
    // (on PostgreSQL after waiting for the first to commit) and takes the next number below.
    await tx.$executeRaw`INSERT INTO "OrgCounter" ("orgId", "name", "last") VALUES (${orgId}, ${ROUND_COUNTER}, ${last}) ON CONFLICT DO NOTHING`;
  }
  return takeNumbers(tx, orgId, ROUND_COUNTER);
}

const ROUND_COUNTER = 'quiz.round';

/** Runs `work` in a transaction with the next round number; a race on the unique key retries. */
export async function withNextSeq<T>(db: Db, orgId: string, work: (tx: Tx, seq: number) => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await db.$transaction(async (tx) => work(tx, await nextSeq(tx, orgId)));
    } catch (err) {
      // Two rounds took the same number, or two contests started at once in a chat:
      // go again; `work` re-reads and refuses the loser with a precise message.
      if (attempt < 3 && isUniqueViolation(err)) continue;
      throw err;
    }
  }
}

export interface NewRound {
  orgId: string;
  seq: number;
  kind: RoundKind;
  platform: string;
  chatId: string | null;
  title: string;
  tag: string | null;
  status: 'scheduled' | 'running';
  /** Already checked and serialised (settingsOf). */
  settings: string;
  opensAt: Date;
  closesAt?: Date | null;
  createdBy: string;
  lockKey?: string;
  parentId?: string;
  planId?: string;
  prevRoundId?: string | null;
  cardRef?: string | null;
}

/** Creates a round and its questions, numbered from 1 in the order given. */
export async function createRound(
  tx: Tx,
  input: NewRound,
  questionIds: string[],
  question: { status: string; openedAt?: Date; deadline?: Date } = { status: 'pending' },
) {
  const round = await tx.quizRound.create({ data: { id: newId(), ...input } });
  await tx.quizRoundQuestion.createMany({
    data: questionIds.map((questionId, i) => ({ roundId: round.id, position: i + 1, questionId, ...question })),
  });
  return round;
}
