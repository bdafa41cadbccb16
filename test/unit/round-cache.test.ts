import { beforeEach, describe, expect, it } from 'vitest';
import { countedRoundCache } from '../helpers/counted-round-cache.ts';
import { providers } from '../helpers/databases.ts';
import { migratedPerTest } from '../helpers/migrated-db.ts';

/**
 * The round snapshot on both databases (the HTTP test in test/http/quiz-round-cache.test.ts
 * runs on SQLite only): an expired snapshot that nothing changed is kept without re-reading
 * the round through Prisma, and what another instance changed is seen once it expires.
 */
describe.each(providers)('the round snapshot on $name', (provider) => {
  const database = migratedPerTest(provider.create);
  beforeEach(async () => {
    const db = database().prisma;
    await db.organisation.create({ data: { id: 'org', name: '机关党委' } });
    for (const i of [1, 2, 3])
      await db.question.create({
        data: {
          id: `q${i}`,
          orgId: 'org',
          type: 'single',
          stem: `第${i}题`,
          options: JSON.stringify([{ key: 'A', text: '甲' }]),
          answer: JSON.stringify(['A']),
          fingerprint: `f${i}`,
        },
      });
    await db.quizRound.create({
      data: {
        id: 'r1',
        orgId: 'org',
        seq: 1,
        kind: 'daily',
        platform: 'feishu',
        chatId: 'oc_1',
        title: '每日一练',
        status: 'running',
        settings: '{}',
        opensAt: new Date('2026-03-02T01:00:00Z'),
        createdBy: 'm',
      },
    });
    await db.quizRoundQuestion.createMany({
      data: [1, 2, 3].map((i) => ({ roundId: 'r1', position: i, questionId: `q${i}`, status: 'open' })),
    });
  });

  it('keeps an expired snapshot nothing changed, and sees another instance’s void and edit once it expires', async () => {
    const { cache, reads, advance: later } = countedRoundCache(database());
    const first = await cache.get('r1');
    expect(first?.positions.get(2)?.status).toBe('open');
    later(5_000);
    // Before (PostgreSQL): every expired snapshot was reloaded, three Prisma reads.
    expect(await cache.get('r1')).toBe(first);
    expect(reads()).toBe(1);

    await database().prisma.quizRoundQuestion.updateMany({
      where: { roundId: 'r1', position: 2 },
      data: { status: 'voided' },
    });
    expect((await cache.get('r1'))?.positions.get(2)?.status).toBe('open'); // within the time-to-live
    later(5_000);
    expect((await cache.get('r1'))?.positions.get(2)?.status).toBe('voided');
    await database().prisma.question.update({ where: { id: 'q3' }, data: { stem: '改过的题干' } });
    later(5_000);
    expect((await cache.get('r1'))?.positions.get(3)?.question?.stem).toBe('改过的题干');
    await database().prisma.quizRound.update({ where: { id: 'r1' }, data: { status: 'closed' } });
    later(5_000);
    expect((await cache.get('r1'))?.round.status).toBe('closed');
  });
});
