/**
 * bench:shared-limit — INSTANCES complete bots (default 3) on one PostgreSQL
 * deliver COUNT messages (default 6,000) to CHATS Feishu groups through the
 * fake Feishu OpenAPI of the tests, which counts 50 sends in any second and
 * 1,000 in any minute per app and 5/s per group, and refuses the rest.
 *
 * Printed, from one run: the rate the instances reached together, the best
 * rate any sender could reach for COUNT messages under those two windows
 * (the first 1,000 at 50/s, then 1,000 a minute) and the ratio of the two;
 * sends refused; messages lost or delivered twice.
 *
 *   TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test npm run bench:shared-limit
 *   COUNT=1000 INSTANCES=3 npm run bench:shared-limit
 */
import { loadConfig } from '../src/config.ts';
import { createSystemClock } from '../src/lib/clock.ts';
import { createSilentLogger } from '../src/lib/logger.ts';
import { createShuxiang, type Shuxiang } from '../src/main.ts';
import { createPostgresTestDatabase } from '../test/helpers/databases.ts';
import { startFakeFeishu } from '../test/helpers/fake-feishu.ts';
import { queueNotices } from '../test/helpers/notices.ts';

const COUNT = Number(process.env.COUNT ?? 6000);
const INSTANCES = Number(process.env.INSTANCES ?? 3);
const CHATS = Number(process.env.CHATS ?? 300);
const base = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';

/** Seconds from first to last send of the fastest schedule that fits both windows. */
function bestSeconds(n: number): number {
  const t: number[] = [];
  for (let k = 0; k < n; k++) t.push(Math.max(k / 50, k >= 1000 ? t[k - 1000]! + 60 : 0));
  return t[n - 1]!;
}

const database = await createPostgresTestDatabase(base);
const fake = await startFakeFeishu({ appId: 'cli_bench', appSecret: 's', botOpenId: 'ou_bot' });
for (let c = 0; c < CHATS; c++) fake.addChat({ chat_id: `oc_chat${c}` });
const config = loadConfig({
  DATABASE_URL: database.url,
  LOG_LEVEL: 'silent',
  NODE_ENV: 'production',
  SHUXIANG_DEMO_SEED: 'off',
  FEISHU_APP_ID: 'cli_bench',
  FEISHU_APP_SECRET: 's',
  FEISHU_DOMAIN: fake.url,
  FEISHU_ALLOW_UNENCRYPTED: 'on',
  FEISHU_VERIFICATION_TOKEN: 'token',
});
const instances: Shuxiang[] = [];
try {
  for (let i = 0; i < INSTANCES; i++) {
    instances.push(await createShuxiang(config, { clock: createSystemClock(), log: createSilentLogger() }));
  }
  const first = instances[0]!;
  await queueNotices(first, { count: COUNT, chats: CHATS, prefix: 'oc_chat', perTransaction: 100 });
  const started = Date.now();
  for (const s of instances) s.start();
  while ((await first.db.prisma.outboxMessage.count({ where: { status: { not: 'sent' } } })) > 0) {
    await new Promise((r) => setTimeout(r, 500));
    if (Date.now() - started > 30 * 60_000) throw new Error('delivery did not finish in 30 minutes');
  }
  const delivered = [...fake.messages.values()].filter((m) => m.chat_id.startsWith('oc_chat'));
  const texts = delivered.map((m) => JSON.parse(m.content).text as string);
  const times = delivered.map((m) => m.createdAt).sort((a, b) => a - b);
  const seconds = (times.at(-1)! - times[0]!) / 1000;
  if (process.env.BENCH_TIMES) {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(process.env.BENCH_TIMES, JSON.stringify(times));
  }
  const best = bestSeconds(COUNT);
  const sends = fake.requests.filter((r) => r.method === 'POST' && r.path === '/open-apis/im/v1/messages').length;
  console.log(`instances                ${INSTANCES} on one PostgreSQL, ${CHATS} groups`);
  console.log(`messages                 ${COUNT}`);
  console.log(`delivered in             ${seconds.toFixed(1)} s (${((COUNT - 1) / seconds).toFixed(1)}/s)`);
  console.log(`fastest possible         ${best.toFixed(1)} s (${((COUNT - 1) / best).toFixed(1)}/s)`);
  console.log(`ratio to the limit       ${(best / seconds).toFixed(2)}`);
  console.log(
    `sends refused            ${fake.limited.app + fake.limited.chat} of ${sends} (app ${fake.limited.app}, of them by the minute window ${fake.limited.appMinute}; group ${fake.limited.chat})`,
  );
  const requeued = instances.reduce((n, s) => n + s.worker.stats().requeued, 0);
  console.log(`put back unsent         ${requeued} (missed their slot: a pause, or a wake-up over 30 ms late)`);
  console.log(`lost                     ${COUNT - new Set(texts).size}`);
  console.log(`delivered twice          ${texts.length - new Set(texts).size}`);
} finally {
  for (const s of instances) await s.stop();
  await fake.close();
  await database.drop();
}
