import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createManualClock } from '../../src/lib/clock.ts';
import { createSilentLogger } from '../../src/lib/logger.ts';
import { createShuxiang, type Shuxiang } from '../../src/main.ts';
import type { PlatformMessenger } from '../../src/platforms/types.ts';
import { providers } from '../helpers/databases.ts';

const COUNT = Number(process.env.MULTI_COUNT ?? 1000);

/**
 * Two complete app instances (createShuxiang) on one database, both ticking
 * and delivering at the same time: each of 1,000 due reminders reaches the
 * platform exactly once. The platform here is the sandbox, wrapped so every
 * send call is counted (the sandbox itself would hide a duplicate).
 */
// PostgreSQL only: two SQLite clients in ONE process deadlock (better-sqlite3 blocks the event
// loop while it waits for the other client's write lock), and SQLite is not the scale target.
const postgres = providers.find((p) => p.name === 'postgresql');

describe('two app instances on one PostgreSQL database (set TEST_DATABASE_URL)', () => {
  it.skipIf(!postgres)(`deliver ${COUNT} due reminders exactly once each`, { timeout: 180_000 }, async () => {
    const create = postgres!.create;
    const database = await create();
    const clock = createManualClock('2026-03-02T01:00:00Z');
    const sends: { instance: string; key: string; text: string }[] = [];
    const counting =
      (instance: string) =>
      (m: PlatformMessenger): PlatformMessenger => ({
        ...m,
        async sendText(target, text, opts) {
          sends.push({ instance, key: opts.idempotencyKey, text });
          return m.sendText(target, text, opts);
        },
      });
    const config = loadConfig({ DATABASE_URL: database.url, LOG_LEVEL: 'silent', NODE_ENV: 'test' });
    const instances: Shuxiang[] = [];
    try {
      for (const name of ['a', 'b']) {
        instances.push(
          await createShuxiang(config, {
            clock,
            log: createSilentLogger(),
            wrapMessenger: counting(name),
            worker: { batchSize: 100 },
          }),
        );
      }
      const [a] = instances;
      const db = a!.db.prisma;
      const due = clock.now().getTime();
      for (let i = 0; i < COUNT; i += 100) {
        await db.$transaction(async (tx) => {
          for (let j = i; j < i + 100; j++) {
            await a!.scheduler.schedule(
              {
                orgId: 'demo-org',
                kind: 'reminder',
                dueAt: new Date(due - (j % 50) * 1000),
                payload: { v: 1, text: `R${j}`, platform: 'sandbox', targets: [{ kind: 'chat', id: 'group-a' }] },
              },
              tx,
            );
          }
        });
      }

      // Both instances tick and deliver concurrently until nothing is left.
      for (let round = 0; round < 20; round++) {
        await Promise.all(instances.map((s) => s.scheduler.tick()));
        await Promise.all(instances.map((s) => s.worker.drain()));
        const left =
          (await db.scheduledItem.count({ where: { status: 'active' } })) +
          (await db.outboxMessage.count({ where: { status: { not: 'sent' } } }));
        if (left === 0) break;
      }

      const rows = await db.outboxMessage.findMany({ where: { body: { contains: '⏰' } } });
      expect(rows).toHaveLength(COUNT);
      expect(new Set(rows.map((r) => JSON.parse(r.meta!).scheduledItemId as string)).size).toBe(COUNT);
      expect(rows.every((r) => r.status === 'sent')).toBe(true);

      const reminderSends = sends.filter((s) => s.text.startsWith('⏰'));
      expect(reminderSends).toHaveLength(COUNT);
      expect(new Set(reminderSends.map((s) => s.key)).size).toBe(COUNT);
      const texts = reminderSends.map((s) => s.text.replace('⏰ 提醒：', '')).sort();
      expect(texts).toEqual([...Array(COUNT).keys()].map((i) => `R${i}`).sort());

      const transcript = await db.sandboxMessage.count({ where: { chatId: 'group-a', text: { startsWith: '⏰' } } });
      expect(transcript).toBe(COUNT);
      console.log(
        `multi-instance (${database.provider}): instance a sent ${reminderSends.filter((s) => s.instance === 'a').length}, b sent ${reminderSends.filter((s) => s.instance === 'b').length}`,
      );
    } finally {
      for (const s of instances) await s.stop();
      await database.drop();
    }
  });
});
