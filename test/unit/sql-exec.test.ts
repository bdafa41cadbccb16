import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createInboundDedupe } from '../../src/lib/inbound-dedupe.ts';
import { createManualClock } from '../../src/lib/clock.ts';
import { providers } from '../helpers/databases.ts';
import { openMigrated } from '../helpers/migrated-db.ts';

/**
 * Database.sql runs the hot group commits without Prisma (directly on the
 * SQLite connection). What it writes must read back through Prisma exactly
 * as Prisma's own writes do: the same instants, found by the same date
 * filters the clean-up job uses, and errors surfacing as errors.
 */
describe.each(providers)('raw statements beside Prisma on $name', ({ create }) => {
  let env: Awaited<ReturnType<typeof openMigrated>>;
  beforeEach(async () => {
    env = await openMigrated(create);
  });
  afterEach(async () => env.close());

  it('writes dates Prisma reads back and filters on, like its own', async () => {
    const clock = createManualClock('2026-11-29T07:30:00.123Z');
    const { prisma, provider, sql } = env.database;
    const dedupe = createInboundDedupe({ db: prisma, provider, clock, sql });
    expect(await dedupe.firstSeen('feishu', 'evt-1')).toBe(true);
    expect(await dedupe.firstSeen('feishu', 'evt-1')).toBe(false);
    await prisma.inboundEvent.create({
      data: { platform: 'feishu', eventKey: 'evt-2', receivedAt: new Date('2026-11-29T07:30:00.124Z') },
    });
    const row = await prisma.inboundEvent.findFirstOrThrow({ where: { eventKey: 'evt-1' } });
    expect(row.receivedAt.toISOString()).toBe('2026-11-29T07:30:00.123Z');
    const before = await prisma.inboundEvent.findMany({
      where: { receivedAt: { lt: new Date('2026-11-29T07:30:00.124Z') } },
      select: { eventKey: true },
    });
    expect(before.map((r) => r.eventKey)).toEqual(['evt-1']);
    await expect(sql.execute('INSERT INTO "NoSuchTable" VALUES (1)')).rejects.toThrow();
  });
});
