import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/lib/clock.ts';
import { openDatabase, type Database } from '../../src/lib/db.ts';
import { createSilentLogger } from '../../src/lib/logger.ts';
import { createMigrator } from '../../src/lib/migrator.ts';
import { createUsageRecorder, type QuotaCrossing } from '../../src/platforms/dingtalk/usage.ts';
import { providers, type TestDatabase } from '../helpers/databases.ts';

describe.each(providers)('DingTalk API usage counting ($name)', ({ create }) => {
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

  it('counts concurrent calls per organisation and calendar month in China time, and signals 80 % once', async () => {
    // 15:30 UTC on 31 March is 23:30 in Shanghai: still March there.
    const clock = createManualClock('2026-03-31T15:30:00Z');
    const crossings: QuotaCrossing[] = [];
    const recorder = createUsageRecorder({
      db: database.prisma,
      clock,
      log: createSilentLogger(),
      timezone: 'Asia/Shanghai',
      tenant: async () => 'corp-x',
      limit: 10,
      onCrossing: (c) => {
        crossings.push(c);
      },
    });
    await Promise.all(Array.from({ length: 9 }, () => recorder.record('robot.groupSend', 'ok')));
    await recorder.record('webhook.session', 'ok');
    expect(await recorder.used()).toBe(9);
    expect(crossings.map((c) => [c.month, c.level])).toEqual([['2026-03', 80]]);
    // 16:30 UTC is 00:30 on 1 April in Shanghai: a new month starts at zero.
    clock.set('2026-03-31T16:30:00Z');
    await recorder.record('card.update', 'error');
    expect(await recorder.used()).toBe(1);
    const rows = await database.prisma.dingTalkApiUsage.findMany({ orderBy: [{ month: 'asc' }, { api: 'asc' }] });
    expect(rows.map((r) => [r.month, r.api, r.calls, r.errors])).toEqual([
      ['2026-03', 'robot.groupSend', 9, 0],
      ['2026-03', 'webhook.session', 1, 0],
      ['2026-04', 'card.update', 1, 1],
    ]);
  });
});
