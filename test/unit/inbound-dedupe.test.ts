import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/lib/clock.ts';
import { openDatabase, type Database } from '../../src/lib/db.ts';
import { createInboundDedupe } from '../../src/lib/inbound-dedupe.ts';
import { createMigrator } from '../../src/lib/migrator.ts';
import { createWriteBatcher } from '../../src/lib/write-batcher.ts';
import { providers, type TestDatabase } from '../helpers/databases.ts';
import { openThenRollBack } from '../helpers/held-transaction.ts';

describe.each(providers)('inbound dedupe with group commit ($name)', ({ create }) => {
  let test: TestDatabase;
  let database: Database;
  beforeAll(async () => {
    test = await create();
    database = await openDatabase(test.url);
    await createMigrator(database, undefined).migrate();
  });
  afterAll(async () => {
    await database.close();
    await test.drop();
  });

  it('tells exactly one of many concurrent callers that a key is new, and commits every key', async () => {
    const clock = createManualClock('2026-03-02T01:00:00Z');
    const dedupe = createInboundDedupe({ db: database.prisma, provider: database.provider, clock, maxBatch: 64 });
    const keys = Array.from({ length: 300 }, (_, i) => `om_${i % 100}`); // every key three times
    const results = await Promise.all(keys.map((k) => dedupe.firstSeen('feishu', k)));
    expect(results.filter(Boolean)).toHaveLength(100);
    for (let i = 0; i < 100; i++) expect(results.filter((r, j) => r && keys[j] === `om_${i}`)).toHaveLength(1);
    expect(dedupe.stats().batches).toBeLessThan(300); // grouped, not one statement each
    expect(await database.prisma.inboundEvent.count({ where: { platform: 'feishu' } })).toBe(100);
    const row = await database.prisma.inboundEvent.findFirstOrThrow({ where: { eventKey: 'om_7' } });
    expect(row.receivedAt.toISOString()).toBe('2026-03-02T01:00:00.000Z');
    // seen before, in an earlier batch; the same key on another platform is new
    expect(await dedupe.firstSeen('feishu', 'om_7')).toBe(false);
    expect(await dedupe.firstSeen('dingtalk', 'om_7')).toBe(true);
    expect(dedupe.stats().slowPath).toBeGreaterThan(0); // the re-push went the ON CONFLICT way
  });

  it('commits a key seen while another transaction is open, even when that one rolls back', async () => {
    // On SQLite a statement outside Prisma's transactions joins whichever is open on the one
    // connection: a spent signature recorded then vanished with a rollback, and its replay passed.
    const clock = createManualClock('2026-03-02T01:00:00Z');
    const dedupe = createInboundDedupe({ db: database.prisma, provider: database.provider, clock, sql: database.sql });
    const failing = await openThenRollBack(database.prisma);
    const first = dedupe.firstSeen('dingtalk', 'sig-1700000000000');
    await new Promise((r) => setTimeout(r, 50));
    failing.release();
    expect(await failing.done).toBe('aborted');
    expect(await first).toBe(true);
    expect(await database.prisma.inboundEvent.count({ where: { eventKey: 'sig-1700000000000' } })).toBe(1);
    expect(await dedupe.firstSeen('dingtalk', 'sig-1700000000000')).toBe(false);
  });
});

describe('write batcher', () => {
  it('rejects every item of a failed batch, and later batches still work', async () => {
    let fail = true;
    const batcher = createWriteBatcher<number, number>({
      async write(items) {
        if (fail) throw new Error('disk full');
        return items.map((i) => i * 2);
      },
    });
    const first = await Promise.allSettled([batcher.submit(1), batcher.submit(2)]);
    expect(first.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect(await Promise.all([batcher.submit(3), batcher.submit(4)])).toEqual([6, 8]);
    await batcher.flush();
  });
});
