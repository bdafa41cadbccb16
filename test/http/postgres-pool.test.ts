import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/lib/clock.ts';
import { openDatabase, type Database } from '../../src/lib/db.ts';
import { createPostgresTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { createHarness, type Harness } from '../helpers/harness.ts';
import { advance, clickOption, QUIZ_ENV, SAMPLE, seedQuestions } from '../helpers/quiz-fixtures.ts';

/**
 * A 09:00 burst on PostgreSQL brings more clicks at once than an instance has
 * connections (DATABASE_POOL_SIZE): they must wait for a connection, not fail
 * with "Unable to start a transaction in the given time" (bench:province).
 */
const G = 'group-a';
const sh = (local: string) => new Date(`${local.replace(' ', 'T')}:00+08:00`);

describe.skipIf(!process.env.TEST_DATABASE_URL)('PostgreSQL connection pool', () => {
  let h: Harness | undefined;
  let database: TestDatabase | undefined;
  let opened: Database | undefined;
  afterEach(async () => {
    await h?.close();
    await opened?.close();
    await database?.drop();
    h = opened = database = undefined;
  });

  async function connectionsTo(url: string): Promise<number> {
    const c = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
    await c.connect();
    try {
      const name = new URL(url).pathname.slice(1);
      const { rows } = await c.query<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1', [
        name,
      ]);
      return Number(rows[0]!.n);
    } finally {
      await c.end();
    }
  }

  it('answers 20 simultaneous card clicks through 2 connections, and opens no more', async () => {
    database = await createPostgresTestDatabase();
    h = await createHarness({
      database,
      clock: createManualClock(sh('2026-03-02 08:00')),
      env: { ...QUIZ_ENV, DATABASE_POOL_SIZE: '2' },
    });
    // Single-choice questions only: every one has an option A to click.
    await seedQuestions(
      h.shuxiang.db.prisma,
      SAMPLE.filter((q) => q.type === 'single'),
    );
    const demo = await h.shuxiang.db.prisma.member.findFirstOrThrow({ where: { platformUserId: 'm-li' } });
    await h.shuxiang.db.prisma.member.createMany({
      data: Array.from({ length: 20 }, (_, i) => ({
        id: `m-pool-${i}`,
        orgId: demo.orgId,
        platform: 'sandbox',
        platformUserId: `m-pool-${i}`,
        displayName: `成员${i}`,
      })),
    });
    await h.say(G, 'sec-wang', '每日一练 开启 09:00 3');
    h.clock.set(sh('2026-03-02 09:00'));
    await advance(h, 0);
    const card = (await h.transcript(G)).find((m) => m.card?.header.title.startsWith('每日一练'))!;
    const harness = h;
    const acks = await Promise.all(
      Array.from({ length: 20 }, (_, i) => clickOption(harness, G, `m-pool-${i}`, card, 'A', 1 + (i % 3))),
    );
    for (const ack of acks) expect(ack.toast?.kind).not.toBe('error');
    await h.shuxiang.bot.settle(); // fold the answer journal before reading its tables
    expect(await h.shuxiang.db.prisma.quizAnswer.count()).toBe(20);
    expect(await connectionsTo(database.url)).toBeLessThanOrEqual(2);
  });

  it('lets a transaction wait for the only connection longer than Prisma’s default 2 s', async () => {
    database = await createPostgresTestDatabase();
    opened = await openDatabase(database.url, { poolSize: 1 });
    const db = opened.prisma;
    const holder = db.$transaction(async (tx) => {
      await tx.$queryRawUnsafe('SELECT 1 AS one FROM pg_sleep(2.5)');
      return 'first';
    });
    // Started while the one connection is busy for 2.5 s.
    const waiter = db.$transaction(async (tx) => {
      await tx.$queryRawUnsafe('SELECT 1');
      return 'second';
    });
    expect(await Promise.all([holder, waiter])).toEqual(['first', 'second']);
  });
});
