import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/lib/db.ts';
import { createMigrator } from '../../src/lib/migrator.ts';
import { createSqliteTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { openThenRollBack } from '../helpers/held-transaction.ts';

/**
 * SQLite has one connection: a write made outside a transaction while
 * another request's transaction is open used to run inside it, and vanished
 * when that transaction rolled back, although its caller had been told it
 * succeeded (lib/sqlite-write-gate.ts).
 */
describe('SQLite: writes outside a transaction', () => {
  let test: TestDatabase;
  let database: Database;
  const warnings: string[] = [];
  beforeAll(async () => {
    test = await createSqliteTestDatabase();
    database = await openDatabase(test.url, { log: (level, msg) => level === 'warn' && warnings.push(msg) });
    await createMigrator(database, undefined).migrate();
  });
  afterAll(async () => {
    await database.close();
    await test.drop();
  });

  it('keeps writes made while another transaction is open and then rolls back', async () => {
    await database.prisma.inboundEvent.create({
      data: { platform: 'feishu', eventKey: 'kept', receivedAt: new Date() },
    });
    const other = await openThenRollBack(database.prisma);
    // Single statements, which Prisma runs outside any transaction of its own.
    // (.then: a Prisma query runs only once something awaits it)
    const updated = database.prisma.inboundEvent
      .updateMany({ where: { eventKey: 'kept' }, data: { platform: 'dingtalk' } })
      .then((r) => r);
    const inserted = database.prisma
      .$executeRawUnsafe(
        `INSERT INTO "InboundEvent" ("platform","eventKey","receivedAt") VALUES ('feishu','raw',?)`,
        new Date(),
      )
      .then((n) => n);
    await new Promise((r) => setTimeout(r, 30));
    other.release();
    expect(await other.done).toBe('aborted');
    expect((await updated).count).toBe(1);
    expect(await inserted).toBe(1);
    expect(await database.prisma.inboundEvent.count({ where: { eventKey: 'kept', platform: 'dingtalk' } })).toBe(1);
    expect(await database.prisma.inboundEvent.count({ where: { eventKey: 'raw' } })).toBe(1);
    expect(await database.prisma.inboundEvent.count({ where: { eventKey: 'rolled-back' } })).toBe(0);
  });

  it('does not hold reads behind an open transaction', async () => {
    const other = await openThenRollBack(database.prisma);
    // Answered while the transaction is still open (it would otherwise wait for the release).
    expect(await database.prisma.inboundEvent.count({ where: { eventKey: 'raw' } })).toBe(1);
    other.release();
    expect(await other.done).toBe('aborted');
  });

  it('says so when a write waited over a second for an open transaction, and not when it waited briefly', async () => {
    /** A write made while another transaction stays open for `ms`. */
    const writeWhileHeld = async (eventKey: string, ms: number) => {
      const other = await openThenRollBack(database.prisma);
      const write = database.prisma.inboundEvent
        .create({ data: { platform: 'feishu', eventKey, receivedAt: new Date() } })
        .then((r) => r);
      await new Promise((r) => setTimeout(r, ms));
      other.release();
      await other.done;
      await write;
    };
    warnings.length = 0;
    await writeWhileHeld('brief', 30);
    expect(warnings).toEqual([]);
    // As when a job's code writes through the outer client inside its own transaction, until
    // Prisma's timeout: here the transaction simply stays open for 1.1 s.
    await writeWhileHeld('held', 1100);
    expect(warnings).toHaveLength(1);
    const said = /^a write waited (\d+) ms for an open transaction .*INSERT INTO .*InboundEvent/.exec(warnings[0]!);
    expect(Number(said?.[1])).toBeGreaterThanOrEqual(1000);
  });
});
