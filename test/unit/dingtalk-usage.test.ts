import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/lib/clock.ts';
import { openDatabase, type Database } from '../../src/lib/db.ts';
import { createSilentLogger } from '../../src/lib/logger.ts';
import { createMigrator } from '../../src/lib/migrator.ts';
import {
  createDingTalkUsagePort,
  createUsageRecorder,
  type QuotaCrossing,
} from '../../src/platforms/dingtalk/usage.ts';
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

  it('reports the month through the PlatformUsage port and warns once per level across instances', async () => {
    const clock = createManualClock('2026-05-10T02:00:00Z');
    // Two instances: each has its own port and recorder on the one database.
    const warned: string[] = [];
    const ports = [0, 1].map((n) => {
      const usage = createDingTalkUsagePort({ db: database.prisma, clock, limit: 4 });
      usage.port.onCrossing(async (crossing, once) => {
        if (await once(async () => {})) warned.push(`${n}:${crossing.month}:${crossing.level}`);
      });
      const recorder = createUsageRecorder({
        db: database.prisma,
        clock,
        log: createSilentLogger(),
        timezone: 'Asia/Shanghai',
        tenant: async () => 'corp-y',
        limit: 4,
        onCrossing: (c) => usage.signal(c),
      });
      return { ...usage, recorder };
    });
    await ports[0]!.recorder.record('robot.groupSend', 'ok');
    await ports[0]!.recorder.record('card.update', 'error');
    await ports[1]!.recorder.record('robot.groupSend', 'ok');
    await ports[1]!.recorder.record('webhook.session', 'ok');
    // 3 of 4 counted: below 80 %. The fourth call crosses it on both instances, one warns.
    await Promise.all(ports.map((p) => p.recorder.record('card.createAndDeliver', 'ok')));
    expect(warned).toHaveLength(2);
    expect(new Set(warned.map((w) => w.slice(2)))).toEqual(new Set(['2026-05:80', '2026-05:95']));
    const month = await ports[1]!.port.monthUsage('corp-y', '2026-05');
    expect(month).toMatchObject({ platform: 'dingtalk', used: 5, quota: 4, uncounted: 1 });
    expect(month.byApi.find((a) => a.api === 'robot.groupSend')).toEqual({
      api: 'robot.groupSend',
      calls: 2,
      errors: 0,
    });
    expect(month.byApi.find((a) => a.api === 'card.update')).toEqual({ api: 'card.update', calls: 1, errors: 1 });
  });
});
