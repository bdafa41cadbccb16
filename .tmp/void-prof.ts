import { createAnswerStore, type AnswerInput } from '../src/features/quiz/answer-store.ts';
import { createAnswerVoider } from '../src/features/quiz/answer-void.ts';
import { openDatabase } from '../src/lib/db.ts';
import { createSilentLogger } from '../src/lib/logger.ts';
import { createMigrator } from '../src/lib/migrator.ts';
import { createSqliteTestDatabase, createPostgresTestDatabase } from '../test/helpers/databases.ts';
const t = process.env.PG ? await createPostgresTestDatabase(process.env.PG) : await createSqliteTestDatabase();
const db = await openDatabase(t.url);
await createMigrator(db).migrate();
const store = createAnswerStore({ db: db.prisma, provider: db.provider, log: createSilentLogger() });
const N = 5000, base = Date.parse('2026-03-02T01:00:00Z');
for (let from = 0; from < N; from += 500) {
  const batch: AnswerInput[] = [];
  for (let i = from; i < from + 500; i++) for (let q = 0; q < 10; q++)
    batch.push({ orgId: 'org', roundId: 'r', questionId: `q${q}`, position: q + 1, memberId: `m${i}`, unitId: `u${i % 2}`, response: ['true'], correct: (i + q) % 3 !== 0, points: 10, elapsedMs: 1, answeredAt: new Date(base + (i % 600) * 1000 + q * 60000), timezone: 'Asia/Shanghai' });
  await store.writeBatch(batch);
}
console.log('seeded', await db.prisma.quizTally.count());
const v = createAnswerVoider({ provider: db.provider });
const T0 = performance.now();
for (;;) {
  const t0 = performance.now();
  const { members } = await db.prisma.$transaction((tx) => v.voidChunk(tx, { orgId: 'org', roundId: 'r', questionId: 'q0' }, 'Asia/Shanghai'));
  console.log('chunk', members.length, Math.round(performance.now() - t0), 'ms');
  if (!members.length) break;
}
console.log('total', Math.round(performance.now() - T0), 'tallies', await db.prisma.quizTally.count());
await db.close(); await t.drop();
