import type { MessageKey, MessageParams } from '../../bot/messages.ts';
import type { Db } from '../../lib/db.ts';
import type { Card } from '../../platforms/types.ts';
import { quizBoardCard } from './cards.ts';
import type { QuizDeps } from './shared.ts';
import { periodKey, periodRange, type PeriodKind } from './time.ts';

/**
 * Leaderboards read the incremental tallies only: a top-N is an index range
 * read and a member's own place is one count over the same index, whatever
 * the number of answers behind them. The order is the star learner's rule
 * everywhere: most correct answers, then fewer answers given, then whoever
 * got there first.
 */
export interface BoardRow {
  subjectId: string;
  correct: number;
  answered: number;
  points: number;
  reachedAt: Date;
}

const ORDER = [{ correct: 'desc' as const }, { answered: 'asc' as const }, { reachedAt: 'asc' as const }];

export async function topOf(
  db: Db,
  orgId: string,
  period: string,
  scope: 'member' | 'unit',
  limit: number,
): Promise<BoardRow[]> {
  return db.quizTally.findMany({
    where: { orgId, period, scope },
    orderBy: ORDER,
    take: limit,
    select: { subjectId: true, correct: true, answered: true, points: true, reachedAt: true },
  });
}

/**
 * 1-based place of one subject, or null when it has no tally in the period.
 * One round trip: everyone with more correct answers comes from the rank
 * buckets (one row per distinct count), the ties from a short range of the
 * board index.
 */
export async function placeOf(db: Db, orgId: string, period: string, scope: 'member' | 'unit', subjectId: string) {
  const rows = await db.$queryRaw<
    { correct: number; answered: number; points: number; more: number | bigint | null; ties: number | bigint }[]
  >`
    SELECT t."correct", t."answered", t."points",
      (SELECT SUM(b."count") FROM "QuizRankBucket" b
        WHERE b."orgId" = t."orgId" AND b."period" = t."period" AND b."scope" = t."scope" AND b."correct" > t."correct") AS "more",
      (SELECT COUNT(*) FROM "QuizTally" x
        WHERE x."orgId" = t."orgId" AND x."period" = t."period" AND x."scope" = t."scope" AND x."correct" = t."correct"
          AND (x."answered" < t."answered" OR (x."answered" = t."answered" AND x."reachedAt" < t."reachedAt"))) AS "ties"
    FROM "QuizTally" t
    WHERE t."orgId" = ${orgId} AND t."period" = ${period} AND t."scope" = ${scope} AND t."subjectId" = ${subjectId}`;
  const mine = rows[0];
  if (!mine) return null;
  return {
    place: Number(mine.more ?? 0) + Number(mine.ties) + 1,
    tally: { correct: Number(mine.correct), answered: Number(mine.answered), points: Number(mine.points) },
  };
}

export function createBoards(deps: QuizDeps) {
  const { db, cards, messages, clock } = deps;
  const t = (k: MessageKey, p?: MessageParams) => messages.t(k, p);

  const periodLabel: Record<PeriodKind, [MessageKey, MessageKey]> = {
    week: ['quiz.board.week', 'quiz.board.last_week'],
    month: ['quiz.board.month', 'quiz.board.last_month'],
    year: ['quiz.board.year', 'quiz.board.last_year'],
  };

  /** An instant inside the period before the current one. */
  function previous(period: PeriodKind, now: Date, tz: string): Date {
    if (period === 'week') return new Date(now.getTime() - 7 * 86_400_000);
    const start = periodRange(periodKey(period, now, tz), tz).start;
    return new Date(start.getTime() - 1000);
  }

  async function names(scope: 'member' | 'unit', ids: string[]): Promise<Map<string, string>> {
    if (scope === 'member') {
      const rows = await db.member.findMany({ where: { id: { in: ids } }, select: { id: true, displayName: true } });
      return new Map(rows.map((r) => [r.id, r.displayName]));
    }
    const rows = await db.unit.findMany({ where: { id: { in: ids } }, select: { id: true, name: true } });
    return new Map(rows.map((r) => [r.id, r.name]));
  }

  return {
    async board(input: {
      orgId: string;
      tz: string;
      period: PeriodKind;
      scope: 'member' | 'unit';
      /** The asker, for "your place" (members' boards). */
      memberId?: string;
      unitId?: string | null;
      publish: boolean;
      limit?: number;
      /** The period before the current one (上周, 上月, 去年). */
      last?: boolean;
    }): Promise<Card> {
      // The journal's unfolded answers first: an answer acknowledged a moment ago is on the board.
      await deps.answers.settle();
      const now = clock.now();
      const key = periodKey(input.period, input.last ? previous(input.period, now, input.tz) : now, input.tz);
      const label = t(periodLabel[input.period][input.last ? 1 : 0]);
      const rows = await topOf(db, input.orgId, key, input.scope, input.limit ?? 10);
      const nm = await names(
        input.scope,
        rows.map((r) => r.subjectId),
      );
      let mine = '';
      const selfId = input.scope === 'member' ? input.memberId : (input.unitId ?? undefined);
      if (!input.publish && selfId) {
        const p = await placeOf(db, input.orgId, key, input.scope, selfId);
        mine = p
          ? t(input.scope === 'member' ? 'quiz.board.mine' : 'quiz.board.mine_unit', {
              period: label,
              place: p.place,
              correct: p.tally.correct,
            })
          : t('quiz.board.mine_none', { period: label });
      }
      return quizBoardCard(cards, {
        title: t('quiz.board.title', {
          period: label,
          scope: t(input.scope === 'member' ? 'quiz.board.members' : 'quiz.board.units'),
        }),
        nameColumn: t(input.scope === 'member' ? 'quiz.col.member' : 'quiz.col.unit'),
        rows: rows.map((r, i) => [
          String(i + 1),
          nm.get(r.subjectId) ?? '?',
          String(r.correct),
          String(r.answered),
          `${r.answered ? Math.round((r.correct / r.answered) * 100) : 0}%`,
        ]),
        chart: input.publish,
        bars: rows.map((r) => ({ label: nm.get(r.subjectId) ?? '?', value: r.correct })),
        mine,
        empty: rows.length === 0,
        note: t('quiz.board.rule'),
      });
    },

    /** 学习之星: the year's member with the most correct answers (ties: fewer answers, then earlier). */
    async star(orgId: string, year: number) {
      await deps.answers.settle();
      const [top] = await topOf(db, orgId, `Y${year}`, 'member', 1);
      if (!top || top.correct === 0) return null;
      const nm = await names('member', [top.subjectId]);
      return { memberId: top.subjectId, name: nm.get(top.subjectId) ?? '?', ...top };
    },
  };
}

export type Boards = ReturnType<typeof createBoards>;
