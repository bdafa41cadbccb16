import { describe, expect, it } from 'vitest';
import { streakUpsert } from '../../src/features/quiz/daily.ts';
import { queryAlone } from '../../src/lib/db.ts';
import { providers } from '../helpers/databases.ts';
import { openThenRollBack } from '../helpers/held-transaction.ts';
import { migratedPerTest } from '../helpers/migrated-db.ts';

/**
 * A member's daily-practice streak, moved by one upsert when they complete a day
 * (src/features/quiz/daily.ts): one more after the plan's previous round, unchanged when the
 * same day completes again, back to 1 after a missed day, the best kept.
 */
describe.each(providers)('the daily streak on $name', (provider) => {
  const database = migratedPerTest(provider.create);

  it('counts consecutive days, ignores a second completion of a day, restarts after a gap', async () => {
    const db = database().prisma;
    const pg = database().provider === 'postgresql';
    const complete = async (roundId: string, prevRoundId: string | null, memberId = 'm1') => {
      const { sql, args } = streakUpsert(pg, {
        planId: 'plan',
        memberId,
        orgId: 'org',
        roundId,
        now: new Date('2026-03-02T01:00:00Z'),
        prevRoundId,
      });
      const [row] = await db.$queryRawUnsafe<{ current: number | bigint }[]>(sql, ...args);
      return Number(row!.current);
    };
    expect(await complete('d1', null)).toBe(1);
    expect(await complete('d2', 'd1')).toBe(2);
    expect(await complete('d2', 'd1')).toBe(2); // the same day again
    expect(await complete('d3', 'd2')).toBe(3);
    expect(await complete('d5', 'd4')).toBe(1); // missed d4
    expect(await complete('d1', null, 'm2')).toBe(1); // someone else
    const s = await db.quizStreak.findUniqueOrThrow({ where: { planId_memberId: { planId: 'plan', memberId: 'm1' } } });
    expect({ current: s.current, best: s.best, lastRoundId: s.lastRoundId }).toEqual({
      current: 1,
      best: 3,
      lastRoundId: 'd5',
    });
    expect(s.updatedAt.toISOString()).toBe('2026-03-02T01:00:00.000Z');
  });

  it("keeps a completed day moved while another request's transaction is open and then rolls back", async () => {
    const { prisma, sql, provider: name } = database();
    const { sql: text, args } = streakUpsert(name === 'postgresql', {
      planId: 'plan',
      memberId: 'm1',
      orgId: 'org',
      roundId: 'd1',
      now: new Date('2026-03-02T01:00:00Z'),
      prevRoundId: null,
    });
    const other = await openThenRollBack(prisma);
    // On SQLite's one connection a direct statement would have joined the open transaction.
    const moved = queryAlone<{ current: number | bigint }>(prisma, sql, text, ...args);
    await new Promise((r) => setTimeout(r, 30));
    other.release();
    expect(await other.done).toBe('aborted');
    expect(Number((await moved)[0]!.current)).toBe(1);
    expect(await prisma.quizStreak.count({ where: { planId: 'plan', memberId: 'm1' } })).toBe(1);
  });
});
