import { createAnswerStore } from '../../../main/src/features/quiz/answer-store.ts';
import { openDatabase } from '../../../main/src/lib/db.ts';
import { createSilentLogger } from '../../../main/src/lib/logger.ts';
import { createMigrator } from '../../../main/src/lib/migrator.ts';
import { rmSync } from 'node:fs';
rmSync('/tmp/jm.db', { force: true }); rmSync('/tmp/jm.db-wal', { force: true }); rmSync('/tmp/jm.db-shm', { force: true });
const db = await openDatabase('file:/tmp/jm.db');
await createMigrator(db, undefined).migrate();
let queries = 0;
const store = createAnswerStore({ db: db.prisma, provider: db.provider, log: createSilentLogger() });
const mk = (n: number) => ({ orgId: 'org', roundId: 'r1', questionId: `q${n % 20}`, position: (n % 20) + 1, memberId: `m${Math.floor(n / 20)}`, unitId: `u${n % 7}`, response: ['A'], correct: n % 3 > 0, points: 100, elapsedMs: 1000, answeredAt: new Date(), timezone: 'Asia/Shanghai', countInRound: true, event: { platform: 'feishu', eventKey: `e${n}` } });
const mode = process.argv[2] ?? 'submit';
const c0 = process.cpuUsage(); const t0 = performance.now();
const N = 20000, wave = 100;
for (let n = 0; n < N; n += wave) {
  await Promise.all(Array.from({ length: wave }, (_, i) => store.submit(mk(n + i))));
}
const c1 = process.cpuUsage(c0); const t1 = performance.now();
console.log(mode, 'append', ((c1.user + c1.system) / N).toFixed(1), 'µs cpu/answer', (t1 - t0).toFixed(0), 'ms');
await store.flush();
const c2 = process.cpuUsage(c0);
console.log('with fold', ((c2.user + c2.system) / N).toFixed(1), 'µs cpu/answer', (performance.now() - t0).toFixed(0), 'ms', await db.prisma.quizAnswer.count());
await db.close();
