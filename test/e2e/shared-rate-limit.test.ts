import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createSystemClock } from '../../src/lib/clock.ts';
import { createSilentLogger } from '../../src/lib/logger.ts';
import { createShuxiang, type Shuxiang } from '../../src/main.ts';
import { providers } from '../helpers/databases.ts';
import { queueNotices } from '../helpers/notices.ts';
import { startFakeFeishu } from '../helpers/fake-feishu.ts';

/**
 * Three instances on one PostgreSQL share Feishu's send budget (50 in any
 * second and 1000 in any minute per app, 5/s per chat, as the fake counts
 * them): delivering a fan-out together, almost no send is refused and every
 * message arrives once. Each instance alone would plan the whole budget, so
 * without the shared buckets the three would send three times too fast.
 * The rate they reach is measured by `npm run bench:shared-limit` (speed is
 * a benchmark's business, not a timed test's).
 */
const COUNT = Number(process.env.SHARED_LIMIT_COUNT ?? 600);
const CHATS = 60;
const postgres = providers.find((p) => p.name === 'postgresql');

describe('one send budget across instances (PostgreSQL; set TEST_DATABASE_URL)', () => {
  it.skipIf(!postgres)(
    `three instances deliver ${COUNT} messages within Feishu's per-app limits, each once`,
    { timeout: 180_000 },
    async () => {
      const database = await postgres!.create();
      const fake = await startFakeFeishu({ appId: 'cli_shared0001', appSecret: 's', botOpenId: 'ou_bot' });
      for (let c = 0; c < CHATS; c++) fake.addChat({ chat_id: `oc_chat${c}` });
      const config = loadConfig({
        DATABASE_URL: database.url,
        LOG_LEVEL: 'silent',
        NODE_ENV: 'test',
        SHUXIANG_DEMO_SEED: 'off',
        FEISHU_APP_ID: 'cli_shared0001',
        FEISHU_APP_SECRET: 's',
        FEISHU_DOMAIN: fake.url,
        FEISHU_ALLOW_UNENCRYPTED: 'on',
        FEISHU_VERIFICATION_TOKEN: 'token',
      });
      const instances: Shuxiang[] = [];
      try {
        for (let i = 0; i < Number(process.env.SHARED_LIMIT_INSTANCES ?? 3); i++) {
          instances.push(await createShuxiang(config, { clock: createSystemClock(), log: createSilentLogger() }));
        }
        const first = instances[0]!;
        // Enqueued before any instance starts, as a scheduled fan-out would leave them.
        await queueNotices(first, { count: COUNT, chats: CHATS, prefix: 'oc_chat', perTransaction: 200 });
        const started = Date.now();
        for (const s of instances) s.start();
        const db = first.db.prisma;
        while ((await db.outboxMessage.count({ where: { status: { not: 'sent' } } })) > 0) {
          if (Date.now() - started > 150_000) throw new Error('delivery did not finish');
          await new Promise((r) => setTimeout(r, 250));
        }

        const sends = fake.requests.filter((r) => r.method === 'POST' && r.path === '/open-apis/im/v1/messages') as {
          body: { uuid?: string; content?: string };
        }[];
        const delivered = [...fake.messages.values()].filter((m) => m.chat_id.startsWith('oc_chat'));
        // Every message once: as many distinct messages as enqueued, no text twice.
        const texts = delivered.map((m) => JSON.parse(m.content).text as string);
        expect(new Set(texts).size).toBe(COUNT);
        expect(texts).toHaveLength(COUNT);
        const refused = fake.limited.app + fake.limited.chat;
        console.log(
          `shared limit: ${refused} of ${sends.length} sends refused (app ${fake.limited.app}, chat ${fake.limited.chat})`,
        );
        expect(refused / sends.length).toBeLessThan(0.01);
        // The instances shared the work (which one plans a round is a race for the lock, so no
        // fixed share), and together sent each message once.
        const sent = instances.map((s) => s.worker.stats().sent);
        expect(sent.reduce((a, b) => a + b, 0)).toBe(COUNT);
        expect(sent.filter((n) => n > 0).length).toBeGreaterThanOrEqual(2);
      } finally {
        for (const s of instances) await s.stop();
        await fake.close();
        await database.drop();
      }
    },
  );
});
