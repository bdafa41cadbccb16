import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createManualClock, type ManualClock } from '../../src/lib/clock.ts';
import { createSilentLogger } from '../../src/lib/logger.ts';
import { createShuxiang, type Shuxiang } from '../../src/main.ts';
import { DeliveryError } from '../../src/platforms/types.ts';
import { createSqliteTestDatabase, type TestDatabase } from '../helpers/databases.ts';

/** The sandbox platform, except that group-b rejects everything (e.g. the bot was removed). */
describe('messages given up for good', () => {
  let database: TestDatabase;
  let app: Shuxiang;
  let clock: ManualClock;
  beforeEach(async () => {
    database = await createSqliteTestDatabase();
    clock = createManualClock('2026-03-02T01:00:00Z');
    app = await createShuxiang(loadConfig({ DATABASE_URL: database.url, LOG_LEVEL: 'silent' }), {
      clock,
      log: createSilentLogger(),
      wrapMessenger: (m) => ({
        ...m,
        async sendText(target, text, opts) {
          if (target.id === 'group-b') throw new DeliveryError('230002 bot not in group', 'permanent');
          return m.sendText(target, text, opts);
        },
      }),
    });
  });
  afterEach(async () => {
    await app.stop();
    await database.drop();
  });

  const toGroupB = (text: string) =>
    app.outbox.enqueue({
      platform: 'sandbox',
      orgId: 'demo-org',
      target: { kind: 'chat', id: 'group-b' },
      kind: 'text',
      body: { text },
    });
  const notices = async () =>
    (await app.db.prisma.sandboxMessage.findMany({ where: { chatId: 'dm-sec-wang' } })).filter((m) =>
      m.text?.includes('多次发送失败'),
    );

  it('tells the secretaries once an hour, not once per message, and never about the notice itself', async () => {
    await toGroupB('第一条');
    await toGroupB('第二条');
    await app.worker.drain();
    expect(await app.db.prisma.outboxMessage.count({ where: { status: 'dead' } })).toBe(2);
    expect(await notices()).toHaveLength(1);
    clock.advance(3601_000);
    await toGroupB('第三条');
    await app.worker.drain();
    expect(await notices()).toHaveLength(2);
  });
});
