import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAnswerStore, type AnswerStore } from '../../src/features/quiz/answer-store.ts';
import { createAnswerVoider } from '../../src/features/quiz/answer-void.ts';
import { placeOf, topOf } from '../../src/features/quiz/board.ts';
import { periodKeys } from '../../src/features/quiz/time.ts';
import { openDatabase, type Database } from '../../src/lib/db.ts';
import { createSilentLogger } from '../../src/lib/logger.ts';
import { createMigrator } from '../../src/lib/migrator.ts';
import { answerInput } from '../helpers/answer-input.ts';
import { providers, type TestDatabase } from '../helpers/databases.ts';

const TZ = 'Asia/Shanghai';
const at = (local: string) => new Date(`${local.replace(' ', 'T')}:00+08:00`);

const answer = answerInput;

// On SQLite the bot appends with direct statements (lib/db.ts, SqlExec) where it can, and through
// Prisma inside transactions: both paths keep every rule below.
const variants = providers.flatMap((p) => [
  { ...p, via: 'Prisma', direct: false },
  ...(p.name === 'sqlite' ? [{ ...p, via: 'direct statements', direct: true }] : []),
]);

describe.each(variants)('answer store and tallies on $name, appending through $via', (provider) => {
  let testDb: TestDatabase;
  let db: Database;
  let store: AnswerStore;
  beforeEach(async () => {
    testDb = await provider.create();
    db = await openDatabase(testDb.url);
    await createMigrator(db, undefined).migrate();
    store = createAnswerStore({
      db: db.prisma,
      provider: db.provider,
      log: createSilentLogger(),
      ...(provider.direct ? { sql: db.sql } : {}),
    });
  });
  afterEach(async () => {
    await db.close();
    await testDb.drop();
  });

  it('records one answer per member, question and round, in a batch and across batches', async () => {
    const first = await store.writeBatch([
      answer({}),
      answer({ correct: false, response: ['B'] }), // same key in the same batch: loses
      answer({ memberId: 'm2', unitId: 'u2' }),
    ]);
    expect(first).toEqual([true, false, true]);
    expect(await store.writeBatch([answer({ correct: false })])).toEqual([false]);
    expect(await db.prisma.quizAnswer.count()).toBe(2);
    const year = await db.prisma.quizTally.findMany({
      where: { period: 'Y2026' },
      orderBy: [{ scope: 'asc' }, { subjectId: 'asc' }],
    });
    expect(year.map((t) => [t.scope, t.subjectId, t.correct, t.answered, t.points])).toEqual([
      ['member', 'm1', 1, 1, 100],
      ['member', 'm2', 1, 1, 100],
      ['unit', 'u1', 1, 1, 100],
      ['unit', 'u2', 1, 1, 100],
    ]);
    expect(await db.prisma.quizTally.count({ where: { subjectId: 'm1' } })).toBe(3); // week, month, year
  });

  it('lets exactly one of many simultaneous submissions of the same answer through', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.submit(answer({ response: [i % 2 ? 'A' : 'B'], correct: i % 2 === 1 })),
      ),
    );
    expect(results.filter((r) => r.status === 'recorded')).toHaveLength(1);
    await store.settle();
    expect(await db.prisma.quizAnswer.count()).toBe(1);
    const tally = await db.prisma.quizTally.findFirstOrThrow({ where: { period: 'Y2026', scope: 'member' } });
    expect(tally.answered).toBe(1);
  });

  it('tells each member how many answers they now have in the round, counted in the same write', async () => {
    const c = { countInRound: true };
    // Three questions answered at once (one batch), one more later, one duplicate, another member.
    const first = await Promise.all([
      store.submit(answer({ ...c, questionId: 'q1', position: 1 })),
      store.submit(answer({ ...c, questionId: 'q2', position: 2 })),
      store.submit(answer({ ...c, questionId: 'q3', position: 3, memberId: 'm2' })),
      store.submit(answer({ questionId: 'q3', position: 3, memberId: 'm3' })),
    ]);
    expect(first.map((r) => r.answeredInRound)).toEqual([2, 2, 1, undefined]);
    expect(await store.submit(answer({ ...c, questionId: 'q3', position: 3 }))).toEqual({
      status: 'recorded',
      answeredInRound: 3,
    });
    expect(await store.submit(answer({ ...c, questionId: 'q3', position: 3 }))).toEqual({ status: 'duplicate' });
    expect(await store.submit(answer({ ...c, roundId: 'r2', questionId: 'q1' }))).toEqual({
      status: 'recorded',
      answeredInRound: 1,
    });
  });

  it('writes the click that carried an answer with it, and records nothing for the same click again', async () => {
    const click = { platform: 'feishu', eventKey: 'evt-1' };
    // The same event twice in one batch, and once more later: one answer, one dedupe row.
    const [first, again] = await Promise.all([
      store.submit(answer({ event: click })),
      store.submit(answer({ event: click, questionId: 'q2', position: 2 })),
    ]);
    expect([first.status, again.status]).toEqual(['recorded', 'replayed']);
    // The click's dedupe row is committed with the acknowledged answer, before any fold.
    expect(await db.prisma.inboundEvent.count({ where: { eventKey: 'evt-1' } })).toBe(1);
    expect(await db.prisma.quizAnswer.count()).toBe(0);
    expect((await store.submit(answer({ event: click, questionId: 'q3', position: 3 }))).status).toBe('replayed');
    // A new click for an answered question is a duplicate answer, and its event is still new.
    expect((await store.submit(answer({ event: { platform: 'feishu', eventKey: 'evt-2' } }))).status).toBe('duplicate');
    await store.settle();
    expect(await db.prisma.quizAnswer.count()).toBe(1);
    expect((await db.prisma.inboundEvent.findMany({ orderBy: { eventKey: 'asc' } })).map((e) => e.eventKey)).toEqual([
      'evt-1',
      'evt-2',
    ]);
  });

  it('ranks by correct answers, then fewer answers, then who got there first (the star learner rule)', async () => {
    await store.writeBatch([
      // A: 3 correct of 4
      ...[1, 2, 3].map((n) => answer({ memberId: 'A', questionId: `q${n}`, answeredAt: at(`2026-03-02 09:0${n}`) })),
      answer({ memberId: 'A', questionId: 'q4', correct: false, answeredAt: at('2026-03-02 09:04') }),
      // B: 3 correct of 3, reached at 09:33
      ...[1, 2, 3].map((n) => answer({ memberId: 'B', questionId: `q${n}`, answeredAt: at(`2026-03-02 09:3${n}`) })),
      // C: 3 correct of 3, reached at 09:23 — earlier than B
      ...[1, 2, 3].map((n) => answer({ memberId: 'C', questionId: `q${n}`, answeredAt: at(`2026-03-02 09:2${n}`) })),
      // D: 2 correct
      ...[1, 2].map((n) => answer({ memberId: 'D', questionId: `q${n}` })),
    ]);
    const top = await topOf(db.prisma, 'org', 'Y2026', 'member', 10);
    expect(top.map((t) => t.subjectId)).toEqual(['C', 'B', 'A', 'D']);
    expect((await placeOf(db.prisma, 'org', 'Y2026', 'member', 'A'))?.place).toBe(3);
    expect(await placeOf(db.prisma, 'org', 'Y2026', 'member', 'nobody')).toBeNull();
  });

  it('keeps everyone’s place right through random batches and a void (rank buckets agree with a full sort)', async () => {
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    for (let b = 0; b < 6; b++) {
      await store.writeBatch(
        Array.from({ length: 60 }, (_, i) =>
          answer({
            memberId: `m${Math.floor(rand() * 25)}`,
            questionId: `q${b}-${i % 12}`,
            correct: rand() < 0.6,
            answeredAt: at(`2026-03-0${2 + (b % 5)} 1${b}:${String(i % 60).padStart(2, '0')}`),
          }),
        ),
      );
    }
    const check = async () => {
      for (const period of ['Y2026', 'W2026-10']) {
        const all = await topOf(db.prisma, 'org', period, 'member', 1000);
        for (const [i, row] of all.entries()) {
          expect(
            (await placeOf(db.prisma, 'org', period, 'member', row.subjectId))?.place,
            `${period} ${row.subjectId}`,
          ).toBe(i + 1);
        }
        const buckets = await db.prisma.quizRankBucket.aggregate({
          where: { orgId: 'org', period, scope: 'member' },
          _sum: { count: true },
        });
        expect(buckets._sum.count).toBe(all.length);
      }
    };
    await check();
    // Chunks of four answers: the void runs as several short transactions.
    await voidAll('q1-3', 4);
    await check();
    // Reached-at aside: these batches come out of time order, which live answers never do.
    await expectTalliesRecounted({ reachedAt: false });
  });

  it('takes a voided answer out of the tallies, and the reached-at time back to the latest answer still counting', async () => {
    await store.writeBatch([
      answer({ questionId: 'q1', answeredAt: at('2026-03-02 09:00') }),
      answer({ questionId: 'q2', answeredAt: at('2026-03-02 09:10') }),
      answer({ questionId: 'q3', correct: false, points: 0 }),
    ]);
    await voidAll('q2');
    const t = await db.prisma.quizTally.findFirstOrThrow({ where: { period: 'Y2026', subjectId: 'm1' } });
    expect([t.correct, t.answered, t.points]).toEqual([1, 2, 100]);
    expect(t.reachedAt).toEqual(at('2026-03-02 09:00'));
    await expectTalliesRecounted();
  });

  it('stays exact when answers arrive between the chunks of a void, and when a void is resumed', async () => {
    await store.writeBatch(
      Array.from({ length: 9 }, (_, i) =>
        answer({ memberId: `m${i}`, unitId: `u${i % 2}`, correct: i % 3 !== 0, answeredAt: at(`2026-03-02 09:0${i}`) }),
      ),
    );
    const voider = createAnswerVoider({ provider: db.provider });
    await db.prisma.$transaction((tx) =>
      voider.voidChunk(tx, { orgId: 'org', roundId: 'r1', questionId: 'q1' }, TZ, 4),
    );
    // Between chunks: other answers by the same people and units, and a newcomer alone on q1's round.
    await store.writeBatch([
      answer({ memberId: 'm0', questionId: 'q9', answeredAt: at('2026-03-02 11:00') }),
      answer({ memberId: 'm8', unitId: 'u0', questionId: 'q9', correct: false, points: 0 }),
      answer({ memberId: 'm9', unitId: 'u1', questionId: 'q9' }),
    ]);
    await voidAll('q1', 4);
    await expectTalliesRecounted();
    // Only q9 counts now: everyone who answered only q1 is off the board.
    const year = await db.prisma.quizTally.findMany({ where: { period: 'Y2026', scope: 'member' } });
    expect(year.map((t) => t.subjectId).sort()).toEqual(['m0', 'm8', 'm9']);
  });

  async function voidAll(questionId: string, limit?: number): Promise<void> {
    const v = createAnswerVoider({ provider: db.provider });
    for (;;) {
      const { members } = await db.prisma.$transaction((tx) =>
        v.voidChunk(tx, { orgId: 'org', roundId: 'r1', questionId }, TZ, limit),
      );
      if (members.length === 0) return;
    }
  }

  /** Every tally and rank bucket equals a recount from the answers still counting. */
  async function expectTalliesRecounted(opts = { reachedAt: true }): Promise<void> {
    const answers = await db.prisma.quizAnswer.findMany({ where: { voided: false } });
    const want = new Map<string, { correct: number; answered: number; points: number; reachedAt?: number }>();
    for (const a of answers) {
      for (const period of periodKeys(a.answeredAt, TZ)) {
        for (const key of [`${period}|member|${a.memberId}`, ...(a.unitId ? [`${period}|unit|${a.unitId}`] : [])]) {
          const w = want.get(key) ?? { correct: 0, answered: 0, points: 0 };
          w.answered++;
          w.points += a.points;
          if (a.correct) {
            w.correct++;
            w.reachedAt = Math.max(w.reachedAt ?? 0, a.answeredAt.getTime());
          }
          want.set(key, w);
        }
      }
    }
    const tallies = await db.prisma.quizTally.findMany();
    const got = new Map(tallies.map((t) => [`${t.period}|${t.scope}|${t.subjectId}`, t]));
    expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [key, w] of want) {
      const t = got.get(key)!;
      expect([t.correct, t.answered, t.points], key).toEqual([w.correct, w.answered, w.points]);
      if (opts.reachedAt && w.reachedAt !== undefined) expect(t.reachedAt.getTime(), key).toBe(w.reachedAt);
    }
    const buckets = new Map<string, number>();
    for (const t of tallies) {
      const k = `${t.period}|${t.scope}|${t.correct}`;
      buckets.set(k, (buckets.get(k) ?? 0) + 1);
    }
    const stored = await db.prisma.quizRankBucket.findMany({ where: { count: { not: 0 } } });
    expect(new Map(stored.map((b) => [`${b.period}|${b.scope}|${b.correct}`, b.count]))).toEqual(buckets);
  }
});

describe.each(providers.filter((p) => p.name === 'postgresql'))(
  'two instances writing answers on one $name database',
  (provider) => {
    it('never deadlock on the tallies they share, whatever order their batches come in', async () => {
      const testDb = await provider.create();
      const a = await openDatabase(testDb.url);
      const b = await openDatabase(testDb.url);
      try {
        await createMigrator(a, undefined).migrate();
        const log = createSilentLogger();
        const storeA = createAnswerStore({ db: a.prisma, provider: a.provider, log });
        const storeB = createAnswerStore({ db: b.prisma, provider: b.provider, log });
        const units = ['u1', 'u2', 'u3', 'u4', 'u5', 'u6'];
        // Each batch has one answer per unit (new members, so every answer counts); instance A
        // lists the units one way round, B the other, so their unit tallies are touched in
        // opposite orders unless the store orders them.
        const batch = (who: string, round: number, order: string[]) =>
          order.map((unitId, i) =>
            answer({ memberId: `${who}-${round}-${i}`, unitId, roundId: `r${round}`, correct: i % 2 === 0 }),
          );
        let n = 0;
        for (let round = 0; round < 25; round++) {
          const [x, y] = await Promise.all([
            storeA.writeBatch(batch('a', round, units)),
            storeB.writeBatch(batch('b', round, [...units].reverse())),
          ]);
          n += [...x, ...y].filter(Boolean).length;
        }
        expect(n).toBe(25 * 12);
        const unitYear = await a.prisma.quizTally.findMany({ where: { scope: 'unit', period: 'Y2026' } });
        expect(unitYear.map((t) => t.answered)).toEqual(units.map(() => 50));
      } finally {
        await a.close();
        await b.close();
        await testDb.drop();
      }
    }, 60_000);
  },
);
